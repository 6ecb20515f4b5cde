package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.internal.poll.Readiness;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every way a parked operation can be woken, for every operation that parks:
 * {connect, accept, read, write} x {untimed, with a deadline} x {close from another thread,
 * interrupt, the deadline}, on virtual and platform threads. Each wakes with its own outcome:
 * <ul>
 *   <li>close: {@link ConnectionClosedException};</li>
 *   <li>interrupt: exactly {@link InterruptedIOException}, the interrupt status still set;</li>
 *   <li>deadline: {@link SocketTimeoutException}.</li>
 * </ul>
 * Close and interrupt are triggered only once the thread is seen parked in the poller. An untimed
 * operation cannot meet a deadline, so that cell is absent. Connect parks against a listener whose
 * accept queue is full (the SYN is dropped, the socket stays in SYN_SENT).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WakeupMatrixTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    /** Long enough never to pass in a test; the cells with it are woken by close or interrupt. */
    private static final Duration FAR = Duration.ofSeconds(60);
    /** For the cells woken by the deadline itself. */
    private static final Duration NEAR = Duration.ofMillis(50);
    /** Far more than the small buffers of {@link Loopback.Pair#withSmallBuffers} hold. */
    private static final MemorySegment BIG = MemorySegment.ofArray(new byte[8 << 20]);

    enum Op { CONNECT, ACCEPT, READ, WRITE }

    enum Timing { UNTIMED, WITH_DEADLINE }

    enum Trigger { CLOSE, INTERRUPT, DEADLINE }

    private final Syscalls sys = LinuxSyscalls.INSTANCE;

    static Stream<Arguments> cells() {
        List<Arguments> cells = new ArrayList<>();
        for (Op op : Op.values()) {
            for (Timing timing : Timing.values()) {
                for (Trigger trigger : Trigger.values()) {
                    if (timing == Timing.UNTIMED && trigger == Trigger.DEADLINE) {
                        continue; // impossible: nothing ends an untimed wait by time
                    }
                    for (Forked.Kind kind : Forked.Kind.values()) {
                        cells.add(Arguments.of(op, timing, trigger, kind));
                    }
                }
            }
        }
        return cells.stream();
    }

    /** One parked operation: how to start it, and what to close to wake it. */
    private interface Scenario extends AutoCloseable {
        Forked<?> start(Forked.Kind kind, Duration timeout);

        void closeTarget();

        /** Checks made after the outcome, e.g. what the peer received. */
        default void afterwards(Trigger trigger) throws Exception {}

        @Override
        void close() throws Exception;
    }

    @ParameterizedTest(name = "{0} {1} woken by {2} on a {3} thread")
    @MethodSource("cells")
    void parkedOperationWakesWithItsOwnOutcome(Op op, Timing timing, Trigger trigger, Forked.Kind kind)
            throws Exception {
        Duration timeout = timing == Timing.UNTIMED ? null : trigger == Trigger.DEADLINE ? NEAR : FAR;
        try (Scenario scenario = scenario(op)) {
            Forked<?> call = scenario.start(kind, timeout);
            if (trigger != Trigger.DEADLINE) {
                // With a 50 ms deadline the thread may be gone before we look: only the outcome counts.
                Parked.await(call.thread());
            }
            switch (trigger) {
                case CLOSE -> scenario.closeTarget();
                case INTERRUPT -> call.thread().interrupt();
                case DEADLINE -> {}
            }
            Forked.Outcome<?> outcome = call.await();
            switch (trigger) {
                case CLOSE -> {
                    outcome.assertThrowsExactly(ConnectionClosedException.class);
                    assertFalse(outcome.interruptedAtEnd());
                }
                case INTERRUPT -> {
                    outcome.assertThrowsExactly(InterruptedIOException.class);
                    assertTrue(outcome.interruptedAtEnd(), "the interrupt status must stay set");
                }
                case DEADLINE -> {
                    outcome.assertThrowsExactly(SocketTimeoutException.class);
                    assertFalse(outcome.interruptedAtEnd());
                }
            }
            scenario.afterwards(trigger);
        }
    }

    private Scenario scenario(Op op) throws IOException {
        return switch (op) {
            case CONNECT -> connectScenario();
            case ACCEPT -> acceptScenario();
            case READ -> readScenario();
            case WRITE -> writeScenario();
        };
    }

    private Scenario connectScenario() throws IOException {
        Loopback.FullBacklog backlog = Loopback.FullBacklog.open(sys);
        AtomicReference<NativeSocket> connecting = new AtomicReference<>();
        return new Scenario() {
            @Override
            public Forked<?> start(Forked.Kind kind, Duration timeout) {
                // The preparation hook hands the test the socket, so another thread can close it.
                return Forked.start(kind, "connect", () -> Loopback.connector(sys)
                        .connect(backlog.address(), timeout, null, connecting::set));
            }

            @Override
            public void closeTarget() {
                NativeSocket socket = connecting.get();
                assertNotNull(socket, "the connecting socket");
                socket.close("closed by test", null);
            }

            @Override
            public void afterwards(Trigger trigger) {
                // Whatever woke it, the Connector gives up the socket it was connecting.
                assertTrue(connecting.get().descriptor().isClosed(), "an abandoned connect closes its socket");
            }

            @Override
            public void close() throws IOException {
                backlog.close();
            }
        };
    }

    private Scenario acceptScenario() throws IOException {
        NativeListener listener = Loopback.listen(sys, 4);
        return new Scenario() {
            @Override
            public Forked<?> start(Forked.Kind kind, Duration timeout) {
                long deadline = Deadline.after(timeout);
                return Forked.start(kind, "accept", () -> listener.accept(deadline));
            }

            @Override
            public void closeTarget() {
                listener.close();
            }

            @Override
            public void afterwards(Trigger trigger) throws IOException {
                if (trigger != Trigger.CLOSE) {
                    // An interrupted or timed-out accept leaves the listener usable.
                    try (Socket client = new Socket(Loopback.IPV4, listener.localAddress().getPort())) {
                        listener.accept(Loopback.deadline()).close("done", null);
                    }
                }
            }

            @Override
            public void close() {
                listener.close();
            }
        };
    }

    private Scenario readScenario() throws IOException {
        Loopback.Pair pair = Loopback.Pair.open(sys);
        return new Scenario() {
            @Override
            public Forked<?> start(Forked.Kind kind, Duration timeout) {
                long deadline = Deadline.after(timeout);
                return Forked.start(kind, "read", () -> pair.client().read(MemorySegment.ofArray(new byte[64]), deadline));
            }

            @Override
            public void closeTarget() {
                pair.client().close("closed by test", null);
            }

            @Override
            public void afterwards(Trigger trigger) throws IOException {
                if (trigger != Trigger.CLOSE) {
                    // Interrupt and deadline end the wait, not the connection: data still flows.
                    assertFalse(pair.client().descriptor().isClosed());
                    Loopback.write(pair.server(), new byte[] {42});
                    assertEquals(42, Loopback.readExactly(pair.client(), 1)[0]);
                }
                pair.client().close("done", null);
                // Seen from the peer: a clean end (FIN), not one byte.
                assertEquals(0, Loopback.readToEnd(pair.server()).length);
            }

            @Override
            public void close() {
                pair.close();
            }
        };
    }

    private Scenario writeScenario() throws IOException {
        Loopback.Pair pair = Loopback.Pair.withSmallBuffers(sys);
        return new Scenario() {
            @Override
            public Forked<?> start(Forked.Kind kind, Duration timeout) {
                long deadline = Deadline.after(timeout);
                return Forked.start(kind, "write", () -> {
                    pair.client().write(BIG, deadline);
                    return null;
                });
            }

            @Override
            public void closeTarget() {
                pair.client().close("closed by test", null);
            }

            @Override
            public void afterwards(Trigger trigger) throws IOException {
                long written = pair.client().bytesWritten();
                assertTrue(written > 0 && written < BIG.byteSize(), "the write was under way: " + written);
                pair.client().close("done", null);
                // Seen from the peer: exactly the bytes the layer handed to the kernel, then FIN.
                assertEquals(written, Loopback.readToEnd(pair.server()).length);
            }

            @Override
            public void close() {
                pair.close();
            }
        };
    }

    /** An untimed read of up to 8 bytes from {@code socket}, on a new thread of {@code kind}. */
    private static Forked<Integer> untimedRead(Forked.Kind kind, String name, NativeSocket socket) {
        return Forked.start(kind, name, () -> socket.read(MemorySegment.ofArray(new byte[8]), Deadline.NONE));
    }

    /** Two untimed readers of one socket: the first parked in the poller, the second queued behind it on the lock. */
    private record QueuedReaders(Forked<Integer> first, Forked<Integer> second) {
        static QueuedReaders start(Forked.Kind kind, NativeSocket socket) {
            Forked<Integer> first = untimedRead(kind, "first reader", socket);
            Parked.await(first.thread());
            Forked<Integer> second = untimedRead(kind, "second reader", socket);
            Parked.awaitOnLock(second.thread());
            return new QueuedReaders(first, second);
        }
    }

    /**
     * A second reader queued on the read lock behind a parked one: close wakes both; the queued
     * one is parked on the lock, not in the poller.
     */
    @ParameterizedTest(name = "queued reader on a {0} thread woken by close")
    @EnumSource(Forked.Kind.class)
    void readerQueuedOnTheLockIsWokenByClose(Forked.Kind kind) throws Exception {
        try (Loopback.Pair pair = Loopback.Pair.open(sys)) {
            QueuedReaders readers = QueuedReaders.start(kind, pair.client());
            pair.client().close("closed by test", null);
            readers.first().await().assertThrowsExactly(ConnectionClosedException.class);
            readers.second().await().assertThrowsExactly(ConnectionClosedException.class);
        }
    }

    @ParameterizedTest(name = "queued reader on a {0} thread woken by interrupt")
    @EnumSource(Forked.Kind.class)
    void readerQueuedOnTheLockIsWokenByInterrupt(Forked.Kind kind) throws Exception {
        try (Loopback.Pair pair = Loopback.Pair.open(sys)) {
            QueuedReaders readers = QueuedReaders.start(kind, pair.client());
            readers.second().thread().interrupt();
            Forked.Outcome<Integer> outcome = readers.second().await();
            outcome.assertThrowsExactly(InterruptedIOException.class);
            assertTrue(outcome.interruptedAtEnd(), "the interrupt status must stay set");
            // The first reader is unaffected and still gets the data.
            Loopback.write(pair.server(), new byte[] {7});
            assertEquals(1, readers.first().await().assertReturned());
        }
    }

    /**
     * A read with a deadline, queued on the read lock behind an untimed reader, must still end
     * at its deadline: "parks until ready, the deadline, close or interrupt" holds for the whole
     * operation, not only for the part after the lock.
     */
    @Test
    void readerQueuedOnTheLockHonoursItsDeadline() throws Exception {
        try (Loopback.Pair pair = Loopback.Pair.open(sys)) {
            Forked<Integer> first = untimedRead(Forked.Kind.VIRTUAL, "untimed reader", pair.client());
            Parked.await(first.thread());
            long deadline = Deadline.after(NEAR);
            Forked<Integer> second = Forked.start(Forked.Kind.VIRTUAL, "reader with deadline",
                    () -> pair.client().read(MemorySegment.ofArray(new byte[8]), deadline));
            try {
                second.await().assertThrowsExactly(SocketTimeoutException.class);
            } finally {
                pair.client().close("test over", null);
                first.await();
                second.await();
            }
        }
    }

    /** The same for accept: a second acceptor with a deadline, queued behind an untimed one. */
    @Test
    void acceptorQueuedOnTheLockHonoursItsDeadline() throws Exception {
        NativeListener listener = Loopback.listen(sys, 4);
        try {
            Forked<NativeSocket> first = Forked.start(Forked.Kind.VIRTUAL, "untimed acceptor",
                    () -> listener.accept(Deadline.NONE));
            Parked.await(first.thread());
            long deadline = Deadline.after(NEAR);
            Forked<NativeSocket> second = Forked.start(Forked.Kind.VIRTUAL, "acceptor with deadline",
                    () -> listener.accept(deadline));
            try {
                second.await(Duration.ofSeconds(5)).assertThrowsExactly(SocketTimeoutException.class);
            } finally {
                listener.close();
                first.await();
                second.await();
            }
        } finally {
            listener.close();
        }
    }
}
