package dev.tcpscope.internal.poll;

import dev.tcpscope.SystemCallException;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.SocketAddresses;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.internal.socket.Connector;
import dev.tcpscope.internal.socket.NativeListener;
import dev.tcpscope.internal.socket.NativeSocket;
import dev.tcpscope.internal.socket.SocketOptions;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.FaultInjectingSyscalls;
import dev.tcpscope.testing.FaultInjectingSyscalls.Call;
import dev.tcpscope.testing.FaultInjectingSyscalls.Injection;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import dev.tcpscope.testing.SteppedEpollWait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The loop of a poller that the test starts itself ({@link Poller#start}), so that it runs the
 * code under test from its first line: the process-wide poller's thread entered its loop long
 * before, which mutation testing cannot replace under it (README, "Mutation testing"). Readiness
 * is observed through real loopback sockets registered with that poller: a parked reader wakes
 * when data arrives, a parked writer when the peer makes room, a read returns -1 at the peer's FIN.
 *
 * <p>Checked through PIT's mutants of {@code Poller} (issue 11), each of which one of these tests
 * kills: the loop not called (the poller failed at once); an interrupted epoll_wait (EINTR)
 * treated as a failure, and any other errno retried; an empty wake-up (0 events) treated as a
 * failure; the events after the first of one epoll_wait read from the first one's place (the
 * second descriptor never woke); one event more than epoll_wait returned dispatched (a stale
 * event of an earlier wait reached a descriptor); the failure of epoll_create1 not reported, or
 * with the wrong errno; the count of registrations not giving the table's lock back (the stopped
 * poller's thread hung in its failure).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PollerLoopTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final byte[] HELLO = "hello".getBytes(StandardCharsets.US_ASCII);

    /** A connected pair and its listener on one poller, with small buffers both ways. */
    private record OwnPair(NativeListener listener, NativeSocket client, NativeSocket server) implements AutoCloseable {

        static OwnPair open(Syscalls sys, Poller poller) throws IOException {
            NativeListener listener = NativeListener.listen(sys, poller, new InetSocketAddress(Loopback.IPV4, 0), 1,
                    l -> l.options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_RCVBUF, Loopback.SMALL_BUFFER));
            NativeSocket client = null;
            try {
                client = new Connector(sys, poller).connect(listener.localAddress(), Await.TIMEOUT, null,
                        s -> {
                            s.options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_SNDBUF, Loopback.SMALL_BUFFER);
                            s.options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_RCVBUF, Loopback.SMALL_BUFFER);
                        });
                return new OwnPair(listener, client, listener.accept(Loopback.deadline()));
            } catch (IOException | RuntimeException e) {
                if (client != null) {
                    client.close("closed by the test", e);
                }
                listener.close();
                throw e;
            }
        }

        @Override
        public void close() {
            client.close("closed by the test", null);
            server.close("closed by the test", null);
            listener.close();
        }
    }

    @Test
    void aParkedReaderWakesForDataAndAtFinAndAParkedWriterWhenThePeerMakesRoom() throws Exception {
        Poller poller = Poller.start(LinuxSyscalls.INSTANCE);
        try (OwnPair pair = OwnPair.open(LinuxSyscalls.INSTANCE, poller)) {
            assertReaderWakesForData(pair);

            // A write much larger than both socket buffers parks until the server reads.
            byte[] large = new byte[1 << 20];
            Forked<Void> writer = Forked.start(Forked.Kind.VIRTUAL, "writer", () -> {
                pair.client().write(MemorySegment.ofArray(large), Deadline.NONE);
                return null;
            });
            Parked.await(writer.thread());
            assertEquals(large.length, Loopback.readExactly(pair.server(), large.length).length);
            writer.await().assertReturned();

            // The peer's FIN wakes a parked reader too: -1.
            Forked<Integer> reader = Forked.start(Forked.Kind.VIRTUAL, "reader",
                    () -> pair.client().read(MemorySegment.ofArray(new byte[8]), Deadline.NONE));
            Parked.await(reader.thread());
            pair.server().shutdownOutput();
            assertEquals(-1, reader.await().assertReturned());
        }
        assertEquals(0, poller.registeredCount(), "every slot is given back");
        assertNull(poller.failure());
    }

    /**
     * A socket joins the epoll set only when a thread first waits on it, for that direction, and
     * the other direction is added when a thread first waits for it (epoll_ctl MOD): here the
     * writer waits first and the reader second, the reverse of the test above, and both wake.
     * Checked: with the MOD not made (the interest recorded, epoll_ctl skipped), the reader here
     * and the writer above never woke; with adopt() registering again, the first assertion failed.
     */
    @Test
    void aSocketRegistersAtItsFirstWaitAndAddsTheOtherDirectionAtItsFirstWait() throws Exception {
        Poller poller = Poller.start(LinuxSyscalls.INSTANCE);
        try (OwnPair pair = OwnPair.open(LinuxSyscalls.INSTANCE, poller)) {
            assertEquals(Poller.UNREGISTERED, pair.server().descriptor().pollKey(),
                    "an accepted socket nobody has waited on is not in the epoll set");
            byte[] large = fillsTheServersPath(pair);
            Forked<Void> writer = Forked.start(Forked.Kind.VIRTUAL, "writer", () -> {
                pair.server().write(MemorySegment.ofArray(large), Deadline.NONE);
                return null;
            });
            Parked.await(writer.thread());
            assertEquals(large.length, Loopback.readExactly(pair.client(), large.length).length);
            writer.await().assertReturned();

            byte[] buffer = new byte[HELLO.length];
            Forked<Integer> reader = Forked.start(Forked.Kind.VIRTUAL, "reader",
                    () -> pair.server().read(MemorySegment.ofArray(buffer), Deadline.NONE));
            Parked.await(reader.thread());
            Loopback.write(pair.client(), HELLO);
            assertEquals(HELLO.length, reader.await().assertReturned());
            assertArrayEquals(HELLO, buffer);
        }
        assertEquals(0, poller.registeredCount(), "every slot is given back");
    }

    /**
     * A reader and a writer whose first waits on a fresh socket come at the same time: one
     * registers, the other widens the registration (never a second ADD, which epoll refuses
     * with EEXIST), and both wake when the peer makes them ready. Repeated on fresh pairs so
     * that the two first waits often race. Checked: without the lock in ensureInterest, a run
     * failed with "epoll_ctl(EPOLL_CTL_ADD) ... EEXIST" or a waiter that never woke.
     */
    @Test
    void aReaderAndAWriterWaitingForTheFirstTimeTogetherBothWake() throws Exception {
        Poller poller = Poller.start(LinuxSyscalls.INSTANCE);
        for (int round = 0; round < 20; round++) {
            try (OwnPair pair = OwnPair.open(LinuxSyscalls.INSTANCE, poller)) {
                byte[] large = fillsTheServersPath(pair);
                byte[] buffer = new byte[HELLO.length];
                Forked<Integer> reader = Forked.start(Forked.Kind.VIRTUAL, "reader",
                        () -> pair.server().read(MemorySegment.ofArray(buffer), Deadline.NONE));
                Forked<Void> writer = Forked.start(Forked.Kind.VIRTUAL, "writer", () -> {
                    pair.server().write(MemorySegment.ofArray(large), Deadline.NONE);
                    return null;
                });
                Parked.await(reader.thread());
                Parked.await(writer.thread());
                Loopback.write(pair.client(), HELLO);
                assertEquals(large.length, Loopback.readExactly(pair.client(), large.length).length);
                assertEquals(HELLO.length, reader.await().assertReturned(), "round " + round);
                writer.await().assertReturned();
            }
        }
        assertEquals(0, poller.registeredCount(), "every slot is given back");
        assertNull(poller.failure());
    }

    /** EINTR from epoll_wait (a signal) is retried: the poller goes on and wakes readers as before. */
    @Test
    void anInterruptedEpollWaitIsRetried() throws Exception {
        var sys = new FaultInjectingSyscalls();
        // Injected before the poller starts, as in anEmptyWakeUpIsNotAFailure: a socket joins the
        // epoll set only when a thread waits on it, so no registration edge ends a wait in progress.
        Injection eintr = sys.inject(Call.EPOLL_WAIT, Errno.EINTR, 3, FaultInjectingSyscalls.ANY_FD);
        Poller poller = Poller.start(sys);
        try (OwnPair pair = OwnPair.open(sys, poller)) {
            Await.until("three epoll_waits interrupted", () -> eintr.fired() == 3);
            assertReaderWakesForData(pair);
        }
        assertNull(poller.failure());
        assertTrue(poller.thread().isAlive());
    }

    /** epoll_wait returning 0 events (it does not with an infinite timeout, but harmless) is no failure. */
    @Test
    void anEmptyWakeUpIsNotAFailure() throws Exception {
        var sys = new FaultInjectingSyscalls();
        // Injected before the poller starts: its first two waits return at once. (Injected after,
        // the thread could already sleep in a real epoll_wait that nothing ends: a socket joins
        // the epoll set only when a thread waits on it, and the pair below may never wait.)
        Injection empty = sys.injectResult(Call.EPOLL_WAIT, 0, 2, FaultInjectingSyscalls.ANY_FD);
        Poller poller = Poller.start(sys);
        try (OwnPair pair = OwnPair.open(sys, poller)) {
            Await.until("two empty wake-ups", () -> empty.fired() == 2);
            assertReaderWakesForData(pair);
        }
        assertNull(poller.failure());
    }

    /**
     * Every event of one epoll_wait reaches its own descriptor, and none beyond the count it
     * returned: the events array still holds those of earlier waits, which must not be dispatched
     * again. A fresh, unconnected socket reports EPOLLOUT and EPOLLHUP once, when registered.
     */
    @Test
    void everyEventOfOneWaitReachesItsDescriptorAndNoneBeyondTheCount() throws Exception {
        var stepped = new SteppedEpollWait();
        Poller poller = Poller.start(stepped);
        NativeSocket first = null, second = null, third = null;
        try {
            stepped.awaitAtGate();
            first = NativeSocket.open(stepped, poller, SocketAddresses.AF_INET);
            second = NativeSocket.open(stepped, poller, SocketAddresses.AF_INET);
            Registered.now(first.descriptor());
            Registered.now(second.descriptor());
            assertEquals(2, stepped.step(), "one epoll_wait returns both registrations' edges");
            for (NativeSocket s : new NativeSocket[] {first, second}) {
                assertTrue(s.descriptor().readable.hasPendingEdge() && s.descriptor().writable.hasPendingEdge(),
                        "an event of the wait did not reach " + s);
                s.descriptor().readable.clear();
                s.descriptor().writable.clear();
            }

            third = NativeSocket.open(stepped, poller, SocketAddresses.AF_INET);
            Registered.now(third.descriptor());
            // Counted here, on the test's thread, so that the poller's own thread must take the
            // table's lock after it (when it fails, below): the count gives the lock back.
            assertEquals(3, poller.registeredCount());
            assertEquals(1, stepped.step());
            assertTrue(third.descriptor().readable.hasPendingEdge());
            for (NativeSocket s : new NativeSocket[] {first, second}) {
                assertFalse(s.descriptor().readable.hasPendingEdge() || s.descriptor().writable.hasPendingEdge(),
                        "an event of the earlier wait was dispatched again, to " + s);
            }
        } finally {
            for (NativeSocket s : new NativeSocket[] {first, second, third}) {
                if (s != null) {
                    s.close("closed by the test", null);
                }
            }
            stepped.stop();
        }
        assertTrue(poller.thread().join(Await.TIMEOUT), "the stopped poller's thread ends");
        var cause = assertInstanceOf(SystemCallException.class, poller.failure());
        assertEquals("EBADF", cause.errnoName());
    }

    /** A poller that cannot get its epoll instance says so with the call and its errno. */
    @Test
    void aFailingEpollCreateIsReported() {
        var sys = new FaultInjectingSyscalls();
        sys.inject(Call.EPOLL_CREATE1, Errno.EMFILE, 1);
        var e = assertThrowsExactly(SystemCallException.class, () -> Poller.start(sys));
        assertEquals("epoll_create1", e.call());
        assertEquals("EMFILE", e.errnoName());
    }

    /** A reader parked on the client wakes when the server's data arrives. */
    /**
     * Shrinks the server's send buffer (the client's receive buffer was small from before its
     * handshake: shrunk later, the window already offered makes the kernel drop segments);
     * {@return a write that cannot fit in the path from the server to the client}
     */
    private static byte[] fillsTheServersPath(OwnPair pair) throws IOException {
        pair.server().options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_SNDBUF, Loopback.SMALL_BUFFER);
        return new byte[1 << 20];
    }

    private static void assertReaderWakesForData(OwnPair pair) throws Exception {
        byte[] buffer = new byte[HELLO.length];
        Forked<Integer> reader = Forked.start(Forked.Kind.VIRTUAL, "reader",
                () -> pair.client().read(MemorySegment.ofArray(buffer), Deadline.NONE));
        Parked.await(reader.thread());
        Loopback.write(pair.server(), HELLO);
        assertEquals(HELLO.length, reader.await().assertReturned());
        assertArrayEquals(HELLO, buffer);
    }
}
