package dev.tcpscope;

import dev.tcpscope.testing.TransportUnderTest;

import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.internal.socket.Connector;
import dev.tcpscope.internal.socket.NativeSocket;
import dev.tcpscope.internal.socket.SocketOptions;
import dev.tcpscope.peers.Pair;
import dev.tcpscope.peers.Pair.Side;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.FaultInjectingSyscalls;
import dev.tcpscope.testing.FaultInjectingSyscalls.Call;
import dev.tcpscope.testing.FaultInjectingSyscalls.Injection;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Patterns;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A caller's mistake is the caller's exception, and costs the connection nothing: a segment whose
 * arena is closed reaches the caller as the JDK's {@link IllegalStateException}, a confined
 * segment used from another thread as its {@link WrongThreadException} (before, both became an
 * {@link AssertionError} "downcall failed to invoke" from the syscall layer, and the write
 * poisoned the connection although nothing was sent). Afterwards the same connection still
 * carries bytes both ways and ends gracefully: the peer sees every byte, then FIN.
 *
 * <p>A write that fails before the kernel took any of its bytes does not poison either: a
 * timeout while the send buffer stays full (forced with an injected EAGAIN), also for bytes the
 * stream view had buffered, which stay buffered and are delivered by the graceful ending.
 *
 * <p>Checked: with {@code LinuxSyscalls.failure} wrapping every exception in an AssertionError as
 * before, the four segment tests failed on both sides (AssertionError thrown); with
 * {@code ConnectionOutput.send} poisoning on every failure as before, the two write tests and both
 * timeout tests failed on {@code isPoisoned}; without restoring the stream view's buffer after a
 * flush that sent nothing, the buffered-bytes test failed (the peer saw EOF after 0 of the 5 bytes).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConnectionCallerMistakeTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    private static final byte[] BEFORE = Patterns.bytes(0, 1000);
    private static final byte[] AFTER = Patterns.bytes(1000, 2000);
    private static final Duration FINISH = Duration.ofSeconds(10);

    @ParameterizedTest
    @EnumSource(Side.class)
    void writingASegmentWhoseArenaIsClosedThrowsIllegalStateAndPoisonsNothing(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            conn.write(BEFORE);
            MemorySegment closed;
            try (Arena arena = Arena.ofConfined()) {
                closed = arena.allocate(64);
            }

            assertThrowsExactly(IllegalStateException.class, () -> conn.write(closed));

            assertFalse(conn.isPoisoned(), "nothing was sent");
            assertEquals(BEFORE.length, conn.bytesWritten());
            assertEndsGracefullyWithEverything(p);
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void writingAConfinedSegmentOfAnotherThreadThrowsWrongThreadAndPoisonsNothing(Side side) throws Exception {
        try (Pair p = Pair.open(side); Arena arena = Arena.ofConfined()) {
            TcpConnection conn = p.connection();
            conn.write(BEFORE);
            MemorySegment mine = arena.allocate(64);

            Forked.start(Forked.Kind.VIRTUAL, "writer", () -> {
                conn.write(mine);
                return null;
            }).await().assertThrowsExactly(WrongThreadException.class);

            assertFalse(conn.isPoisoned(), "nothing was sent");
            assertEndsGracefullyWithEverything(p);
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void readingIntoASegmentWhoseArenaIsClosedThrowsIllegalState(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            p.peer().write(BEFORE);
            MemorySegment closed;
            try (Arena arena = Arena.ofShared()) {
                closed = arena.allocate(64);
            }

            assertThrowsExactly(IllegalStateException.class, () -> conn.read(closed));

            assertArrayEquals(BEFORE, conn.inputStream().readNBytes(BEFORE.length), "no byte was consumed");
            conn.write(BEFORE);
            assertEndsGracefullyWithEverything(p);
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void readingIntoAConfinedSegmentOfAnotherThreadThrowsWrongThread(Side side) throws Exception {
        try (Pair p = Pair.open(side); Arena arena = Arena.ofConfined()) {
            TcpConnection conn = p.connection();
            p.peer().write(BEFORE);
            MemorySegment mine = arena.allocate(64);

            Forked.start(Forked.Kind.PLATFORM, "reader", () -> conn.read(mine))
                    .await().assertThrowsExactly(WrongThreadException.class);

            assertArrayEquals(BEFORE, conn.inputStream().readNBytes(BEFORE.length), "no byte was consumed");
            conn.write(BEFORE);
            assertEndsGracefullyWithEverything(p);
        }
    }

    /** A write that times out having sent nothing leaves the peer with exactly the earlier writes. */
    @Test
    void aWriteThatTimedOutBeforeSendingAnythingDoesNotPoison() throws Exception {
        var sys = new FaultInjectingSyscalls();
        try (JdkPeer.Server server = JdkPeer.Server.open()) {
            TcpConnection conn = connect(sys, server);
            try (JdkPeer peer = server.accept()) {
                conn.write(BEFORE);
                conn.writeTimeout(Duration.ofMillis(200));
                // EAGAIN until the timeout (a pending writable edge may let the writer retry once).
                Injection full = sys.inject(Call.SEND, Errno.EAGAIN, 1000, FaultInjectingSyscalls.ANY_FD);

                SocketTimeoutException e = assertThrowsExactly(SocketTimeoutException.class, () -> conn.write(AFTER));

                full.cancel();
                assertTrue(full.fired() >= 1);
                assertEquals(0, e.bytesTransferred);
                assertFalse(conn.isPoisoned(), "nothing of the write was sent");
                conn.write(AFTER); // a retry, as a caller may do
                var seen = peer.readToEndAndCloseAsync();
                FinishResult result = conn.finish(FINISH);
                TransportUnderTest.assertDelivered(result);
                Await.result(seen, "the peer's read").assertEof(concat(BEFORE, AFTER));
            } finally {
                conn.abort();
            }
        }
    }

    /** Bytes the stream view buffered stay buffered when their flush sends none of them. */
    @Test
    void bufferedBytesSurviveAFlushThatSentNothing() throws Exception {
        var sys = new FaultInjectingSyscalls();
        byte[] hello = "hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (JdkPeer.Server server = JdkPeer.Server.open()) {
            TcpConnection conn = connect(sys, server);
            try (JdkPeer peer = server.accept()) {
                conn.writeTimeout(Duration.ofMillis(200));
                OutputStream out = conn.outputStream();
                out.write(hello); // buffered: the write returned, so these bytes must reach the peer
                Injection full = sys.inject(Call.SEND, Errno.EAGAIN, 1000, FaultInjectingSyscalls.ANY_FD);

                assertThrowsExactly(SocketTimeoutException.class, out::flush);
                full.cancel();

                assertFalse(conn.isPoisoned());
                var seen = peer.readToEndAndCloseAsync();
                FinishResult result = conn.finish(FINISH); // flushes what is still buffered
                TransportUnderTest.assertDelivered(result);
                Await.result(seen, "the peer's read").assertEof(hello);
            } finally {
                conn.abort();
            }
        }
    }

    /** A connection as {@link TcpConnection#connect} makes one, whose socket calls go through {@code sys}. */
    private static TcpConnection connect(FaultInjectingSyscalls sys, JdkPeer.Server server) throws Exception {
        NativeSocket socket = new Connector(sys, Poller.shared()).connect(server.address(), Await.TIMEOUT, null,
                s -> s.options().setLinger(SocketOptions.Linger.ABORT));
        return new TcpConnection(socket);
    }

    /** Writes AFTER, finishes, and checks the peer saw BEFORE and AFTER, then FIN. */
    private static void assertEndsGracefullyWithEverything(Pair p) throws Exception {
        TcpConnection conn = p.connection();
        assertEquals(BEFORE.length, conn.bytesWritten());
        conn.write(AFTER);
        var seen = p.peer().readToEndAndCloseAsync(); // its FIN ends the graceful ending's wait at once
        FinishResult result = conn.finish(FINISH);
        TransportUnderTest.assertDelivered(result);
        Await.result(seen, "the peer's read").assertEof(concat(BEFORE, AFTER));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
