package dev.tcpscope.internal.poll;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.SocketAddresses;
import dev.tcpscope.internal.socket.NativeSocket;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Readiness}, the park/unpark state machine of one direction, tested alone: a
 * {@code Readiness} of the test's own (no poller delivers edges to it; the test calls
 * {@link Readiness#signal()} as the poller would) with an open descriptor whose closed flag it
 * consults. Each way out of a wait is checked, and so is what a wait leaves behind for the next
 * one: a consumed edge is gone, a withdrawn waiter does not make the next waiter spin.
 *
 * <p>Checked by PIT (issue 11), which mutated {@code Readiness} and saw these tests fail or hang:
 * without the re-check of the closed flag after publishing, with {@link Readiness#signal()} or
 * {@link Readiness#wakeForClose()} not unparking, with a pending edge not consumed, with the
 * deadline ignored. The two mutants that survive are in the README's list.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReadinessTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private final Readiness readiness = new Readiness("test");
    private NativeSocket socket;
    private SocketDescriptor descriptor;

    @BeforeEach
    void open() throws Exception {
        socket = NativeSocket.open(LinuxSyscalls.INSTANCE, Poller.shared(), SocketAddresses.AF_INET);
        descriptor = socket.descriptor();
    }

    @AfterEach
    void close() {
        socket.close("closed by test", null);
    }

    /**
     * A fresh, unconnected socket reports EPOLLHUP once when it is registered (a read and a write
     * edge): register it (as a first wait would), wait for that edge to arrive through the
     * poller, then forget it.
     */
    private void consumeTheRegistrationEdge() throws Exception {
        Registered.now(descriptor);
        Await.until("the registration's own first edge", () -> descriptor.readable.hasPendingEdge()
                && descriptor.writable.hasPendingEdge());
        descriptor.readable.clear();
        descriptor.writable.clear();
    }

    private static long soon() {
        return Deadline.after(Duration.ofMillis(50));
    }

    @Test
    void anEdgeBeforeTheWaitIsConsumedOnce() throws Exception {
        readiness.signal();
        readiness.signal(); // edges do not add up: one READY
        assertTrue(readiness.hasPendingEdge());
        readiness.await(descriptor, Deadline.NONE, "read"); // returns at once
        assertFalse(readiness.hasPendingEdge(), "the edge was consumed");
        assertThrowsExactly(SocketTimeoutException.class, () -> readiness.await(descriptor, soon(), "read"),
                "a consumed edge does not wake a second wait");
    }

    @Test
    void clearForgetsAPendingEdge() throws Exception {
        readiness.clear(); // nothing pending: nothing happens
        assertFalse(readiness.hasPendingEdge());
        readiness.signal();
        readiness.clear();
        assertFalse(readiness.hasPendingEdge());
        var e = assertThrowsExactly(SocketTimeoutException.class, () -> readiness.await(descriptor, soon(), "read"));
        assertEquals("read timed out", e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(Forked.Kind.class)
    void aSignalWakesTheParkedWaiter(Forked.Kind kind) throws Exception {
        Forked<Void> waiter = Forked.start(kind, "waiter", () -> {
            readiness.await(descriptor, Deadline.NONE, "read");
            return null;
        });
        assertSame(readiness, Parked.await(waiter.thread()));
        readiness.signal();
        waiter.await().assertReturned();
        assertFalse(readiness.hasPendingEdge(), "the waiter consumed the edge");
    }

    /** An unpark that is not an edge (LockSupport allows spurious ones) does not end the wait. */
    @Test
    void aSpuriousUnparkIsNotAnEdge() throws Exception {
        Forked<Void> waiter = Forked.start(Forked.Kind.PLATFORM, "waiter", () -> {
            readiness.await(descriptor, Deadline.NONE, "read");
            return null;
        });
        Parked.await(waiter.thread());
        for (int i = 0; i < 3; i++) {
            LockSupport.unpark(waiter.thread());
            Parked.await(waiter.thread()); // parked again, on the same Readiness
            assertTrue(waiter.outcomeIfDone() == null, "a spurious unpark ended the wait");
        }
        readiness.signal();
        waiter.await().assertReturned();
    }

    @ParameterizedTest
    @EnumSource(Forked.Kind.class)
    void aCloseWakesTheParkedWaiterWithTheReason(Forked.Kind kind) throws Exception {
        consumeTheRegistrationEdge();
        Forked<Void> waiter = Forked.start(kind, "waiter", () -> {
            descriptor.awaitReadable(Deadline.NONE, "read");
            return null;
        });
        assertSame(descriptor.readable, Parked.await(waiter.thread()));
        Exception reason = new Exception("the reason");
        socket.close("aborted", reason);
        var e = waiter.await().assertThrowsExactly(ConnectionClosedException.class);
        assertEquals("read: connection aborted", e.getMessage());
        assertSame(reason, e.getCause());
        assertFalse(descriptor.readable.hasPendingEdge(), "a close is not an edge");
    }

    @Test
    void aClosedDescriptorRefusesTheWaitEvenWithAnEdgePending() throws Exception {
        readiness.signal();
        socket.close("closed by test", null);
        var e = assertThrowsExactly(ConnectionClosedException.class,
                () -> readiness.await(descriptor, Deadline.NONE, "write"));
        assertEquals("write: connection closed by test", e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(Forked.Kind.class)
    void anInterruptEndsTheWaitAndStaysSet(Forked.Kind kind) throws Exception {
        Forked<Void> waiter = Forked.start(kind, "waiter", () -> {
            readiness.await(descriptor, Deadline.NONE, "read");
            return null;
        });
        Parked.await(waiter.thread());
        waiter.thread().interrupt();
        Forked.Outcome<Void> outcome = waiter.await();
        var e = outcome.assertThrowsExactly(InterruptedIOException.class);
        assertEquals("read interrupted", e.getMessage());
        assertTrue(outcome.interruptedAtEnd(), "the interrupt status stays set");
    }

    @Test
    void anInterruptedThreadDoesNotWaitAtAll() {
        Thread.currentThread().interrupt();
        try {
            assertThrowsExactly(InterruptedIOException.class, () -> readiness.await(descriptor, Deadline.NONE, "read"));
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void aDeadlineInThePastFailsAtOnceAndAPendingEdgeWinsOverIt() throws Exception {
        long past = System.nanoTime() - 1;
        assertThrowsExactly(SocketTimeoutException.class, () -> readiness.await(descriptor, past, "connect"));
        readiness.signal();
        readiness.await(descriptor, past, "connect"); // an edge already there is not a wait
        assertFalse(readiness.hasPendingEdge());
    }

    @ParameterizedTest
    @EnumSource(Forked.Kind.class)
    void aDeadlineEndsAParkedWait(Forked.Kind kind) throws Exception {
        Forked<Void> waiter = Forked.start(kind, "waiter", () -> {
            readiness.await(descriptor, Deadline.after(Duration.ofMillis(200)), "read");
            return null;
        });
        waiter.await().assertThrowsExactly(SocketTimeoutException.class);
    }

    /**
     * A waiter that gave up (timeout) withdrew itself: the next waiter parks instead of finding a
     * dead thread in the state and spinning, and an edge still reaches it.
     */
    @Test
    void aWaiterThatTimedOutLeavesNothingBehind() throws Exception {
        assertThrowsExactly(SocketTimeoutException.class, () -> readiness.await(descriptor, soon(), "read"));
        Forked<Void> next = Forked.start(Forked.Kind.PLATFORM, "next waiter", () -> {
            readiness.await(descriptor, Deadline.NONE, "read");
            return null;
        });
        Parked.await(next.thread());
        readiness.signal();
        next.await().assertReturned();
    }

    /** The same after a wait that was interrupted. */
    @Test
    void aWaiterThatWasInterruptedLeavesNothingBehind() throws Exception {
        Forked<Void> first = Forked.start(Forked.Kind.PLATFORM, "first", () -> {
            readiness.await(descriptor, Deadline.NONE, "read");
            return null;
        });
        Parked.await(first.thread());
        first.thread().interrupt();
        first.await().assertThrowsExactly(InterruptedIOException.class);
        Forked<Void> next = Forked.start(Forked.Kind.PLATFORM, "next waiter", () -> {
            readiness.await(descriptor, Deadline.NONE, "read");
            return null;
        });
        Parked.await(next.thread());
        readiness.signal();
        next.await().assertReturned();
    }

    @Test
    void aWakeWithoutAWaiterLeavesNoEdge() {
        readiness.wake();
        assertFalse(readiness.hasPendingEdge());
        readiness.signal();
        readiness.wake();
        assertTrue(readiness.hasPendingEdge(), "a pending edge survives a wake");
    }

    @Test
    void itsNameSaysItsDirection() {
        assertEquals("Readiness[test]", readiness.toString());
        assertEquals("Readiness[readable]", descriptor.readable.toString());
        assertEquals("Readiness[writable]", descriptor.writable.toString());
    }

    /** The poller's edges, through the descriptor: each direction gets only its own events. */
    @Test
    void eventsReachOnlyTheirDirection() throws Exception {
        consumeTheRegistrationEdge();
        descriptor.onEvents(dev.tcpscope.internal.ffi.x86_64.Libc.EPOLLIN());
        assertTrue(descriptor.readable.hasPendingEdge());
        assertFalse(descriptor.writable.hasPendingEdge(), "EPOLLIN woke the writer");
        descriptor.readable.clear();
        descriptor.onEvents(dev.tcpscope.internal.ffi.x86_64.Libc.EPOLLOUT());
        assertTrue(descriptor.writable.hasPendingEdge());
        assertFalse(descriptor.readable.hasPendingEdge(), "EPOLLOUT woke the reader");
        descriptor.writable.clear();
        descriptor.onEvents(dev.tcpscope.internal.ffi.x86_64.Libc.EPOLLRDHUP());
        assertTrue(descriptor.readable.hasPendingEdge(), "the peer's half-close is for the reader");
        assertFalse(descriptor.writable.hasPendingEdge());
        descriptor.readable.clear();
        descriptor.onEvents(dev.tcpscope.internal.ffi.x86_64.Libc.EPOLLERR());
        assertTrue(descriptor.readable.hasPendingEdge() && descriptor.writable.hasPendingEdge(),
                "an error is for both directions");
        descriptor.readable.clear();
        descriptor.writable.clear();
        descriptor.onEvents(0);
        assertFalse(descriptor.readable.hasPendingEdge() || descriptor.writable.hasPendingEdge());
    }
}
