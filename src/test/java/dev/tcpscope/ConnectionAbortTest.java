package dev.tcpscope;

import dev.tcpscope.testing.TransportUnderTest;

import dev.tcpscope.peers.Pair;
import dev.tcpscope.peers.Pair.Side;
import dev.tcpscope.peers.PythonPeer;
import dev.tcpscope.peers.Received;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import dev.tcpscope.testing.Patterns;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every way out other than {@link TcpConnection#finish} reaches the peer as a reset: an exception
 * in try-with-resources, {@code abort()}, a write that failed part-way. Closing a view ends
 * nothing.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConnectionAbortTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    /** Written in chunks that start at multiples of the pattern's period, so any prefix is a pattern prefix. */
    static final byte[] CHUNK = Patterns.bytes(0, Patterns.PERIOD * 4096);

    // ------------------------------------------------------------ try-with-resources

    @ParameterizedTest
    @EnumSource(Side.class)
    void tryWithResourcesWhoseBlockThrowsResetsThePeer(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            CompletableFuture<Received> received = p.peer().readToEndAsync().thenApply(Received::of);

            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> {
                try (TcpConnection conn = p.connection()) {
                    conn.write(Patterns.bytes(0, 1000));
                    throw new IllegalStateException("the response could not be completed");
                }
            });

            Received got = received.get(30, TimeUnit.SECONDS);
            assertEquals(Seen.End.RESET, got.end(), () -> "a truncated response must not end with FIN: " + got);
            assertTrue(got.isPattern(1000), got::toString); // the bytes queued before the RST are still read
            assertEquals("the response could not be completed", thrown.getMessage());
            ConnectionEnding ending = p.connection().ending().orElseThrow();
            assertEquals(ConnectionEnding.Mode.ABORTED, ending.mode());
            assertEquals("closed without finish()", ending.reason());
        }
    }

    @Test
    void tryWithResourcesWhoseBlockThrowsResetsAPythonPeer() throws Exception {
        try (TcpListener listener = ConnectionFinishTest.bindLoopback();
             PythonPeer python = PythonPeer.start(listener.localAddress().getPort())) {
            assertThrows(IllegalStateException.class, () -> {
                try (TcpConnection conn = listener.accept(Duration.ofSeconds(30))) {
                    python.awaitReady();
                    Patterns.write(1 << 20, conn::write);
                    throw new IllegalStateException("failed half-way");
                }
            });
            Received got = python.awaitReceived();
            assertEquals(Seen.End.RESET, got.end(), got::toString);
            assertTrue(got.bytes() <= 1 << 20 && got.isPatternPrefix(), got::toString);
            python.expect("CLOSED");
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void tryWithResourcesAfterFinishLeavesTheGracefulEnding(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            CompletableFuture<Received> received = p.peer().readToEndAndCloseAsync().thenApply(Received::of);
            FinishResult result;
            try (TcpConnection conn = p.connection()) {
                conn.write(Patterns.bytes(0, 1000));
                result = conn.finish(ConnectionFinishTest.FINISH);
            }
            Received got = received.get(30, TimeUnit.SECONDS);
            assertEquals(Seen.End.EOF, got.end(), got::toString);
            assertTrue(got.isPattern(1000));
            TransportUnderTest.assertDelivered(result);
            assertEquals(ConnectionEnding.Mode.GRACEFUL, p.connection().ending().orElseThrow().mode());
        }
    }

    // ------------------------------------------------------------ abort

    @ParameterizedTest
    @EnumSource(Side.class)
    void abortResetsThePeer(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            CompletableFuture<Received> received = p.peer().readToEndAsync().thenApply(Received::of);
            conn.write(Patterns.bytes(0, 5000));
            IOException cause = new IOException("the request was invalid");

            conn.abort(cause);
            conn.abort(); // idempotent

            Received got = received.get(30, TimeUnit.SECONDS);
            assertEquals(Seen.End.RESET, got.end(), got::toString);
            assertTrue(got.isPattern(5000), got::toString);
            ConnectionEnding ending = conn.ending().orElseThrow();
            assertEquals(ConnectionEnding.Mode.ABORTED, ending.mode());
            assertSame(cause, ending.cause());
            assertFalse(ending.result().delivered());
            assertEquals(PeerEnding.UNKNOWN, ending.result().peerEnding());
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void abortInTheMiddleOfALargeWriteWakesTheWriterAndTheReaderAndResetsThePeer(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            // The peer does not read: the writer fills the buffers and parks.
            Forked<Void> writer = Forked.start(Forked.Kind.VIRTUAL, "writer", () -> {
                while (true) {
                    conn.write(CHUNK);
                }
            });
            Forked<Integer> reader = Forked.start(Forked.Kind.VIRTUAL, "reader", () -> conn.read(new byte[100]));
            Parked.await(writer.thread());
            Parked.await(reader.thread());
            IOException cause = new IOException("giving up");

            Forked<Void> aborter = Forked.start(Forked.Kind.PLATFORM, "aborter", () -> {
                conn.abort(cause);
                return null;
            });
            aborter.await().assertReturned();

            ConnectionClosedException woken = writer.await().assertThrowsExactly(ConnectionClosedException.class);
            assertSame(cause, woken.getCause());
            assertSame(cause, reader.await().assertThrowsExactly(ConnectionClosedException.class).getCause());
            long written = conn.bytesWritten();
            Received got = Received.of(p.peer().readToEnd());
            assertEquals(Seen.End.RESET, got.end(), got::toString);
            assertTrue(got.bytes() <= written && got.isPatternPrefix(), got::toString);
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void abortDiscardsBufferedOutput(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            CompletableFuture<Received> received = p.peer().readToEndAsync().thenApply(Received::of);
            conn.outputStream().write(Patterns.bytes(0, 100)); // buffered, not flushed

            conn.abort();

            Received got = received.get(30, TimeUnit.SECONDS);
            assertEquals(Seen.End.RESET, got.end(), got::toString);
            assertEquals(0, got.bytes(), "the buffered bytes were discarded, not sent");
            assertEquals(0, conn.bytesWritten());
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void finishWhileAnotherThreadIsBlockedWritingAbortsAtTheDeadline(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            Forked<Void> writer = Forked.start(Forked.Kind.VIRTUAL, "writer", () -> {
                while (true) {
                    conn.write(CHUNK);
                }
            });
            Parked.await(writer.thread());

            // The write never completes (the peer does not read), so the message is incomplete:
            // the deadline bounds finish() and it aborts.
            Forked<FinishResult> finisher = Forked.start(Forked.Kind.PLATFORM, "finisher",
                    () -> conn.finish(Duration.ofSeconds(1)));
            FinishResult result = finisher.await(Duration.ofSeconds(30)).assertReturned();

            assertFalse(result.delivered(), result::toString);
            writer.await().assertThrowsExactly(ConnectionClosedException.class);
            Received got = Received.of(p.peer().readToEnd());
            assertEquals(Seen.End.RESET, got.end(), got::toString);
            assertTrue(got.isPatternPrefix(), got::toString);
        }
    }

    // ------------------------------------------------------------ poisoning

    @ParameterizedTest
    @EnumSource(Side.class)
    void aWriteThatTimedOutPartWayPoisonsTheConnectionAndFinishResets(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            // 1 s, not less: on a machine loaded by other builds, the write's first send(2) came
            // after a 200 ms timeout had already fired (nothing taken: not poisoned).
            conn.writeTimeout(Duration.ofSeconds(1));
            // One write far larger than every buffer between us and the peer, which does not read:
            // the kernel takes part of it, then it times out. (A write that times out before the
            // kernel took any of its bytes does not poison.)
            SocketTimeoutException timeout = assertThrows(SocketTimeoutException.class,
                    () -> conn.write(Patterns.bytes(0, Patterns.PERIOD * 4096 * 16)));
            assertTrue(timeout.bytesTransferred > 0 && conn.isPoisoned(), "the write should have timed out part-way");
            assertTrue(conn.isOpen(), "poisoning does not end the connection by itself");
            ConnectionClosedException refused = assertThrows(ConnectionClosedException.class,
                    () -> conn.write(new byte[1]));
            assertSame(timeout, refused.getCause());
            long written = conn.bytesWritten();
            assertTrue(written > 0);

            FinishResult result = conn.finish(ConnectionFinishTest.FINISH);

            assertFalse(result.delivered(), result::toString);
            ConnectionEnding ending = conn.ending().orElseThrow();
            assertEquals(ConnectionEnding.Mode.ABORTED, ending.mode());
            assertSame(timeout, ending.cause());
            assertSame(result, ending.result());
            Received got = Received.of(p.peer().readToEnd());
            assertEquals(Seen.End.RESET, got.end(), got::toString);
            assertTrue(got.bytes() <= written && got.isPatternPrefix(), got::toString);
        }
    }

    // ------------------------------------------------------------ views

    @ParameterizedTest
    @EnumSource(Side.class)
    void closingAViewLeavesTheConnectionUsable(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();

            OutputStream out = conn.outputStream();
            out.write(Patterns.bytes(0, 100)); // buffered
            out.close();                       // flushes, closes only the view
            assertArrayEquals(Patterns.bytes(0, 100), p.peer().readExactly(100));
            assertThrows(IOException.class, () -> out.write(1));

            ByteChannel channel = conn.channel();
            assertEquals(100, channel.write(ByteBuffer.wrap(Patterns.bytes(100, 100))));
            channel.close();
            assertFalse(channel.isOpen());
            assertThrows(ClosedChannelException.class, () -> channel.write(ByteBuffer.allocate(1)));
            assertArrayEquals(Patterns.bytes(100, 100), p.peer().readExactly(100));

            InputStream in = conn.inputStream();
            in.close();
            assertThrows(IOException.class, in::read);

            // No FIN, no RST went out: later bytes still reach the peer, and its bytes reach us.
            assertTrue(conn.isOpen());
            conn.write(Patterns.bytes(200, 100));
            assertArrayEquals(Patterns.bytes(200, 100), p.peer().readExactly(100));
            p.peer().write(new byte[] {1, 2, 3});
            byte[] three = new byte[3];
            assertEquals(3, readFully(conn, three));
            assertArrayEquals(new byte[] {1, 2, 3}, three);
            ByteChannel another = conn.channel();
            ByteBuffer buffer = ByteBuffer.allocate(10);
            p.peer().write(new byte[] {4});
            assertEquals(1, another.read(buffer));
            assertEquals(4, buffer.get(0));

            CompletableFuture<Received> rest = p.peer().readToEndAndCloseAsync().thenApply(Received::of);
            FinishResult result = conn.finish(ConnectionFinishTest.FINISH);
            Received got = rest.get(30, TimeUnit.SECONDS);
            assertEquals(Seen.End.EOF, got.end(), got::toString);
            assertEquals(0, got.bytes());
            TransportUnderTest.assertDelivered(result);
            assertNull(conn.ending().orElseThrow().cause());
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void finishSendsWhatTheOutputStreamBuffered(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            CompletableFuture<Received> received = p.peer().readToEndAndCloseAsync().thenApply(Received::of);
            OutputStream out = conn.outputStream();
            for (int i = 0; i < 1000; i++) {
                out.write(Patterns.bytes(i, 1)[0]); // one byte at a time: all buffered, no flush
            }
            FinishResult result = conn.finish(ConnectionFinishTest.FINISH);

            Received got = received.get(30, TimeUnit.SECONDS);
            assertEquals(Seen.End.EOF, got.end(), got::toString);
            assertTrue(got.isPattern(1000), got::toString);
            TransportUnderTest.assertDelivered(result);
        }
    }

    static int readFully(TcpConnection conn, byte[] bytes) throws IOException {
        int done = 0;
        while (done < bytes.length) {
            int n = conn.read(bytes, done, bytes.length - done);
            if (n < 0) {
                break;
            }
            done += n;
        }
        return done;
    }
}
