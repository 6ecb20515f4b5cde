package dev.tcpscope;

import dev.tcpscope.testing.TransportUnderTest;

import dev.tcpscope.peers.Pair;
import dev.tcpscope.peers.Pair.Side;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import dev.tcpscope.testing.Patterns;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How the peer's ending reaches us: a FIN is end-of-stream (-1), every time; a RST is the typed
 * {@link ConnectionResetException}, after the bytes that were already queued, every time (Linux
 * reports ECONNRESET only once); {@link TcpConnection#awaitPeerEnding} tells FIN, RST or TIMEOUT.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConnectionPeerEndingTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    /** What a read loop saw: the bytes, then how it stopped (null failure: -1). */
    record ReadUntilEnd(byte[] bytes, IOException failure) {}

    static ReadUntilEnd readUntilEnd(TcpConnection conn) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] buffer = new byte[1000]; // smaller than what is queued: several reads
        try {
            for (int n; (n = conn.read(buffer)) >= 0; ) {
                bytes.write(buffer, 0, n);
            }
            return new ReadUntilEnd(bytes.toByteArray(), null);
        } catch (IOException e) {
            return new ReadUntilEnd(bytes.toByteArray(), e);
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void aResetDeliversTheQueuedBytesThenThrowsTheTypedExceptionEveryTime(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            p.peer().write(Patterns.bytes(0, 5000));
            p.peer().reset();

            ReadUntilEnd seen = readUntilEnd(conn);

            assertArrayEquals(Patterns.bytes(0, 5000), seen.bytes(), "the bytes queued before the reset");
            assertInstanceOf(ConnectionResetException.class, seen.failure());
            // Remembered: Linux would now read 0, as if the peer had sent FIN.
            assertThrows(ConnectionResetException.class, () -> conn.read(new byte[10]));
            assertThrows(ConnectionResetException.class, () -> conn.read(new byte[10]));
            assertThrows(ConnectionResetException.class, () -> conn.inputStream().read());
            assertThrows(ConnectionResetException.class, () -> conn.channel().read(ByteBuffer.allocate(10)));
            assertEquals(PeerEnding.RST, conn.awaitPeerEnding(Duration.ofSeconds(10)));
            assertTrue(conn.isOpen(), "the peer's reset does not end our side by itself");

            FinishResult result = conn.finish(ConnectionFinishTest.FINISH);
            assertFalse(result.delivered(), result::toString);
            assertEquals(PeerEnding.RST, result.peerEnding(), result::toString);
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void aResetWhileAReaderIsBlockedDeliversTheBytesThenTheException(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            Forked<ReadUntilEnd> reader = Forked.start(Forked.Kind.VIRTUAL, "reader", () -> readUntilEnd(conn));
            Parked.await(reader.thread());

            p.peer().write(Patterns.bytes(0, 3000));
            p.peer().reset();

            ReadUntilEnd seen = reader.await().assertReturned();
            assertArrayEquals(Patterns.bytes(0, 3000), seen.bytes());
            assertInstanceOf(ConnectionResetException.class, seen.failure());
            assertThrows(ConnectionResetException.class, () -> conn.read(new byte[10]));
            assertThrows(ConnectionResetException.class, () -> conn.write(new byte[10]), "writes report it too");
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void aFinIsEndOfStreamEveryTime(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            p.peer().write(Patterns.bytes(0, 3000));
            p.peer().sendFin();

            ReadUntilEnd seen = readUntilEnd(conn);

            assertArrayEquals(Patterns.bytes(0, 3000), seen.bytes());
            assertEquals(null, seen.failure());
            assertEquals(-1, conn.read(new byte[10]));
            assertEquals(-1, conn.read(new byte[10]));
            assertEquals(-1, conn.inputStream().read());
            assertEquals(-1, conn.channel().read(ByteBuffer.allocate(10)));
            assertEquals(PeerEnding.FIN, conn.awaitPeerEnding(Duration.ofSeconds(10)));

            // Half-closed by the peer: we can still answer, and end gracefully.
            conn.write(Patterns.bytes(0, 100));
            FinishResult result = conn.finish(ConnectionFinishTest.FINISH);
            TransportUnderTest.assertDelivered(result);
            assertEquals(PeerEnding.FIN, result.peerEnding());
            assertArrayEquals(Patterns.bytes(0, 100), p.peer().readExactly(100));
            assertEquals(-1, p.peer().socket().getInputStream().read());
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void awaitPeerEndingTellsFin(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            p.peer().write(Patterns.bytes(0, 1000)); // read and discarded meanwhile
            p.peer().sendFin();

            assertEquals(PeerEnding.FIN, conn.awaitPeerEnding(Duration.ofSeconds(10)));
            assertEquals(1000, conn.bytesRead());
            assertTrue(conn.isOpen());
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void awaitPeerEndingTellsRst(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            p.peer().write(Patterns.bytes(0, 1000));
            p.peer().reset();

            assertEquals(PeerEnding.RST, conn.awaitPeerEnding(Duration.ofSeconds(10)));
            assertEquals(PeerEnding.RST, conn.awaitPeerEnding(Duration.ofSeconds(10)), "remembered");
            assertThrows(ConnectionResetException.class, () -> conn.read(new byte[1]));
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void awaitPeerEndingTellsTimeoutAndTheConnectionGoesOn(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();

            assertEquals(PeerEnding.TIMEOUT, conn.awaitPeerEnding(Duration.ofMillis(200)));

            assertTrue(conn.isOpen());
            conn.write(Patterns.bytes(0, 10));
            assertArrayEquals(Patterns.bytes(0, 10), p.peer().readExactly(10));
            p.peer().sendFin();
            assertEquals(PeerEnding.FIN, conn.awaitPeerEnding(Duration.ofSeconds(10)));
        }
    }
}
