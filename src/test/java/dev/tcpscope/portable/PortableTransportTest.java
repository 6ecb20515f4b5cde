package dev.tcpscope.portable;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.ConnectionEnding;
import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.FinishResult;
import dev.tcpscope.PeerEnding;
import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;
import dev.tcpscope.TcpScope;
import dev.tcpscope.peers.Pair;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.Parked;
import dev.tcpscope.testing.Seen;
import dev.tcpscope.testing.TransportUnderTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What only the portable transport (the JDK's channels) has to get right, seen from a plain JDK
 * peer over loopback. Runs in the Surefire execution that forces {@code tcpscope.transport=portable}
 * (skipped elsewhere). Each test says how it was checked: the code broken on purpose, the test
 * seen failing, the code restored.
 */
class PortableTransportTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final byte[] CHUNK = new byte[64 * 1024];

    @BeforeAll
    static void onlyOnThePortableTransport() {
        assumeTrue(TransportUnderTest.portable(), "run by the portable-transport execution");
    }

    @Test
    void connectionsNameTheirTransport() throws Exception {
        try (Pair p = Pair.open(Pair.Side.CONNECTED)) {
            assertTrue(p.connection().toString().startsWith("TcpConnection[portable, "), p.connection()::toString);
        }
    }

    /**
     * The JDK reports a reset once: the writer's "Connection reset by peer", after which the
     * channel's read returns -1. The record must turn that -1 into the reset, every time.
     * Checked: with {@code errors.record} skipped for writes (PortableSocket.sendAll), the read
     * returned -1 and this failed.
     */
    @Test
    void aResetTakenByAWriteIsStillAResetForEveryLaterRead() throws Exception {
        try (Pair p = Pair.open(Pair.Side.CONNECTED)) {
            TcpConnection conn = p.connection();
            p.peer().write("before".getBytes(StandardCharsets.US_ASCII));
            byte[] first = new byte[6];
            assertEquals(6, conn.read(first));
            p.peer().reset();
            // The RST of a loopback close is processed before close() returns: the first call to
            // look is this write, which takes the error ("Connection reset by peer").
            assertThrowsExactly(ConnectionResetException.class, () -> {
                for (int i = 0; i < 1000; i++) {
                    conn.write(CHUNK);
                }
            });
            assertThrowsExactly(ConnectionResetException.class, () -> conn.read(new byte[10]));
            assertThrowsExactly(ConnectionResetException.class, () -> conn.read(new byte[10]), "remembered");
            assertEquals(PeerEnding.RST, conn.awaitPeerEnding(WAIT));
        }
    }

    /**
     * The reverse order: the read takes the reset, the write then gets "Broken pipe" from the
     * kernel, which must still be the peer's reset, and finish() must abort, not end gracefully.
     * Checked: with both {@code throwIfFailed} dropped from PortableSocket.sendAll and
     * {@code brokenPipe} bypassed (the JDK's IOException thrown as is), the write threw a plain
     * IOException("Broken pipe") and this failed; either one alone still passes, the other
     * reporting the recorded reset.
     */
    @Test
    void aResetTakenByAReadIsStillAResetForWritesAndForFinish() throws Exception {
        try (Pair p = Pair.open(Pair.Side.ACCEPTED)) {
            TcpConnection conn = p.connection();
            p.peer().reset();
            assertThrowsExactly(ConnectionResetException.class, () -> conn.read(new byte[10]));
            assertThrowsExactly(ConnectionResetException.class, () -> conn.write(CHUNK));
            FinishResult result = conn.finish(WAIT);
            assertEquals(FinishResult.Delivery.NOT_DELIVERED, result.delivery(), result::toString);
            assertEquals(PeerEnding.RST, result.peerEnding(), result::toString);
            assertEquals(ConnectionEnding.Mode.ABORTED, conn.ending().orElseThrow().mode());
        }
    }

    /**
     * ServerSocketChannel rejects SO_LINGER, so accepted channels get it right after accept: an
     * accepted connection closed without finish() must reset the peer. Checked: without the
     * setOption in PortableListener.accept, the peer saw a clean EOF after the bytes and this failed.
     */
    @Test
    void anAcceptedConnectionAbortsByDefault() throws Exception {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             JdkPeer peer = JdkPeer.connect(listener.localAddress().getPort())) {
            TcpConnection conn = listener.accept(WAIT);
            conn.write("half a message".getBytes(StandardCharsets.US_ASCII));
            conn.close(); // not finished: abort
            Seen seen = peer.readToEnd();
            assertTrue(seen.isReset(), seen::toString);
        }
    }

    /**
     * A blocking channel write has no timeout: the write deadline aborts the connection. The
     * writer gets SocketTimeoutException, the peer RST, later calls find the connection closed.
     * Checked: with WriteDeadlines.Watch.arm doing nothing, the write stayed blocked past the
     * 10 s wait and this failed.
     */
    @Test
    void aWriteDeadlineAbortsTheConnectionAndReportsATimeout() throws Exception {
        try (Pair p = Pair.open(Pair.Side.CONNECTED)) { // the peer never reads
            TcpConnection conn = p.connection();
            conn.writeTimeout(Duration.ofMillis(300));
            Forked<Void> writer = Forked.start(Forked.Kind.VIRTUAL, "writer", () -> {
                for (int i = 0; i < 10_000; i++) {
                    conn.write(CHUNK);
                }
                return null;
            });
            writer.await(WAIT).assertThrowsExactly(SocketTimeoutException.class);
            assertTrue(conn.isPoisoned(), "part of the writes went out");
            assertThrows(ConnectionClosedException.class, () -> conn.write(new byte[1]));
            assertTrue(p.peer().readToEnd().isReset(), "the peer sees RST");
            FinishResult result = conn.finish(WAIT);
            assertEquals(FinishResult.Delivery.NOT_DELIVERED, result.delivery(), result::toString);
        }
    }

    /**
     * abort() from another thread while a writer (full send buffer) and a reader are blocked in the
     * JDK's channel: both wake with ConnectionClosedException, the peer gets RST at once. Checked:
     * with PortableSocket.close not closing the channel, the abort itself hung (waiting for the
     * blocked writer's output lock) and the test never finished. Without the SO_LINGER of
     * PortableListener.accept, the peer saw EOF and this failed.
     */
    @Test
    void abortFromAnotherThreadWakesBlockedCallsAndResetsThePeer() throws Exception {
        for (Forked.Kind kind : Forked.Kind.values()) {
            try (Pair p = Pair.open(Pair.Side.ACCEPTED)) {
                TcpConnection conn = p.connection();
                Forked<Void> writer = Forked.start(kind, "writer", () -> {
                    for (int i = 0; i < 10_000; i++) {
                        conn.write(CHUNK);
                    }
                    return null;
                });
                Forked<Integer> reader = Forked.start(kind, "reader", () -> conn.read(new byte[10]));
                Parked.await(writer.thread());
                Parked.await(reader.thread());
                conn.abort();
                writer.await(WAIT).assertThrowsExactly(ConnectionClosedException.class);
                reader.await(WAIT).assertThrowsExactly(ConnectionClosedException.class);
                assertTrue(p.peer().readToEnd().isReset(), kind + ": the peer sees RST");
            }
        }
    }

    /**
     * The graceful ending cannot confirm delivery here: UNCONFIRMED, documented, and not a failure
     * for a scope. Checked: with PortableLingeringClose reporting NOT_DELIVERED after the peer's
     * FIN, TcpScope.call threw UndeliveredException and this failed.
     */
    @Test
    void aGracefulEndingIsUnconfirmedAndAScopeTakesItAsSuccess() throws Exception {
        try (JdkPeer.Server server = JdkPeer.Server.open()) {
            var seen = server.acceptReadToEndAndCloseAsync();
            byte[] message = "all of it".getBytes(StandardCharsets.US_ASCII);
            String r = TcpScope.call(server.address(), (scope, conn) -> {
                conn.write(message);
                return "returned";
            });
            assertEquals("returned", r);
            Seen peer = seen.get();
            assertTrue(peer.isEof(), peer::toString);
            assertArrayEquals(message, peer.data());
        }
        try (Pair p = Pair.open(Pair.Side.CONNECTED)) {
            p.connection().write(new byte[1000]);
            var peer = p.peer().readToEndAndCloseAsync();
            FinishResult result = p.connection().finish(WAIT);
            assertEquals(FinishResult.Delivery.UNCONFIRMED, result.delivery(), result::toString);
            assertFalse(result.delivered());
            assertTrue(result.graceful());
            assertEquals(-1, result.unacknowledgedBytes());
            assertEquals(ConnectionEnding.Mode.GRACEFUL, p.connection().ending().orElseThrow().mode());
            assertEquals(1000, peer.get().data().length);
            assertTrue(peer.get().isEof());
        }
    }
}
