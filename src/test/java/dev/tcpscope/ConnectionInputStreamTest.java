package dev.tcpscope;

import dev.tcpscope.peers.Pair;
import dev.tcpscope.peers.Pair.Side;
import dev.tcpscope.peers.TcpStates;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Patterns;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.InputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The buffered input stream view ({@link TcpConnection#inputStream()}), against a JDK peer, on
 * both transports: small reads are served from one recv; the view's buffer belongs to the
 * connection, so direct reads and a new view take its bytes first; -1 and a reset keep their
 * meanings and come only after every buffered byte.
 *
 * <p>Checked by breaking it on purpose, one guarantee at a time: with the view reading straight
 * from the socket (no buffer), {@code oneRecvServesManySmallReads} failed (bytesRead() was 1
 * after the first read()); with TcpConnection.receive ignoring the buffer (a direct read going
 * to the socket first), {@code directReadsAndANewViewTakeTheBufferedBytesFirst} failed (the
 * direct read blocked until its timeout, the buffered bytes skipped); with readBuffered reporting
 * the socket's recorded failure before the buffered bytes,
 * {@code aResetComesAfterEveryBufferedByte} failed (ConnectionResetException on the second byte,
 * once the write had recorded the reset).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConnectionInputStreamTest {

    private static final Duration GUARD = Duration.ofSeconds(10);

    @ParameterizedTest
    @EnumSource(Side.class)
    void oneRecvServesManySmallReads(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            conn.readTimeout(GUARD);
            byte[] sent = Patterns.bytes(0, 1000);
            p.peer().write(sent);
            Await.until("all 1000 bytes received", () -> available(conn) == 1000);
            InputStream in = conn.inputStream();
            assertEquals(sent[0] & 0xff, in.read());
            assertEquals(1000, conn.bytesRead(), "the first read() took every received byte into the buffer");
            assertEquals(999, conn.available(), "available() counts the buffered bytes");
            for (int i = 1; i < 1000; i++) {
                assertEquals(sent[i] & 0xff, in.read(), "byte " + i);
            }
            assertEquals(1000, conn.bytesRead(), "the other 999 read() calls made no recv that returned bytes");
            p.peer().sendFin();
            assertEquals(-1, in.read(), "the peer's FIN, after every byte");
            assertEquals(-1, in.read());
        }
    }

    /**
     * A scattering read takes the view's buffered bytes first, into its buffers in order, and
     * returns with them. Checked: with ConnectionTransfers.read going to the socket first, the
     * read waited for bytes the peer never sent (timeout), the buffered ones skipped.
     */
    @ParameterizedTest
    @EnumSource(Side.class)
    void aScatteringReadTakesTheBufferedBytesFirst(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            conn.readTimeout(GUARD);
            byte[] sent = Patterns.bytes(0, 300);
            p.peer().write(sent);
            Await.until("all 300 bytes received", () -> available(conn) == 300);
            assertEquals(sent[0] & 0xff, conn.inputStream().read()); // 299 now buffered
            java.nio.ByteBuffer head = java.nio.ByteBuffer.allocate(100);
            java.nio.ByteBuffer body = java.nio.ByteBuffer.allocateDirect(250);
            assertEquals(299, conn.read(head, body));
            assertArrayEquals(Arrays.copyOfRange(sent, 1, 101), head.array());
            byte[] rest = new byte[199];
            body.flip().get(rest);
            assertArrayEquals(Arrays.copyOfRange(sent, 101, 300), rest);
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void directReadsAndANewViewTakeTheBufferedBytesFirst(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            conn.readTimeout(GUARD);
            byte[] sent = Patterns.bytes(0, 300);
            p.peer().write(sent);
            Await.until("all 300 bytes received", () -> available(conn) == 300);
            InputStream view = conn.inputStream();
            assertEquals(sent[0] & 0xff, view.read()); // the other 299 are now in the buffer

            byte[] direct = new byte[100];
            assertEquals(100, conn.read(direct), "a direct read takes buffered bytes");
            assertArrayEquals(Arrays.copyOfRange(sent, 1, 101), direct);

            view.close(); // closes only the view: its bytes stay with the connection
            InputStream fresh = conn.inputStream();
            assertTrue(fresh != view);
            byte[] rest = fresh.readNBytes(199);
            assertArrayEquals(Arrays.copyOfRange(sent, 101, 300), rest);

            p.peer().write(new byte[] {42});
            byte[] one = new byte[1];
            assertEquals(1, conn.read(one), "with the buffer empty, reads go to the socket");
            assertEquals(42, one[0]);
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void aResetComesAfterEveryBufferedByte(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            conn.readTimeout(GUARD);
            byte[] sent = Patterns.bytes(0, 100);
            p.peer().write(sent);
            Await.until("all 100 bytes received", () -> available(conn) == 100);
            InputStream in = conn.inputStream();
            assertEquals(sent[0] & 0xff, in.read()); // the other 99 are buffered, the kernel's queue is empty

            int ourPort = conn.localAddress().getPort();
            int peerPort = conn.remoteAddress().getPort();
            p.peer().reset();
            Await.until("the peer's RST arrived (our socket left the kernel's table)",
                    () -> TcpStates.of(ourPort, peerPort).isEmpty());
            // A write learns of the reset and records it: the connection now knows it has failed.
            assertThrows(ConnectionResetException.class, () -> conn.write(new byte[10]));

            byte[] rest = in.readNBytes(99);
            assertArrayEquals(Arrays.copyOfRange(sent, 1, 100), rest, "the bytes before the reset come first");
            assertThrows(ConnectionResetException.class, in::read);
            assertThrows(ConnectionResetException.class, in::read, "and every time after");
            assertThrows(ConnectionResetException.class, () -> conn.read(new byte[10]));
        }
    }

    private static int available(TcpConnection conn) {
        try {
            return conn.available();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
