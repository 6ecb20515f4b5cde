package dev.tcpscope;

import dev.tcpscope.testing.TransportUnderTest;

import dev.tcpscope.internal.socket.SocketOptions;
import dev.tcpscope.peers.Pair;
import dev.tcpscope.peers.Pair.Side;
import dev.tcpscope.peers.PythonPeer;
import dev.tcpscope.peers.Received;
import dev.tcpscope.peers.TcpStates;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.OpenSockets;
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
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The smaller truths of a connection's ending (issue 10, sections 2 and 5), each observed from the
 * peer's side: a reset before {@code finish()} is not a delivery; a quiet peer is not waited for
 * beyond the quiet period; a failed write says how much was sent; a reset stays a reset; what
 * remains readable after the ending; views; {@code finish(Duration.ZERO)}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConnectionEndingTruthsTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    static final Duration FINISH = Duration.ofSeconds(30);

    /**
     * The peer's TCP acknowledged our bytes, then its program reset without reading them, all
     * before {@code finish()} began: no FIN can be sent (shutdown fails with ENOTCONN) and
     * SIOCOUTQ reads 0 only because nothing is in flight. That is not a delivery.
     * Checked: with NativeSocket.shutdownOutput (OutputShutdown) treating ENOTCONN as success (as before this test),
     * finish() reported delivered, "the peer then reset", and this test failed.
     */
    @Test
    void aResetBeforeFinishBeganIsNotADelivery() throws Exception {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
             PythonPeer python = PythonPeer.start(listener.localAddress().getPort(), "--wait", "--reset");
             TcpConnection conn = listener.accept(Duration.ofSeconds(30))) {
            int peerPort = python.awaitReady();
            int ourPort = conn.localAddress().getPort();
            int size = 32 * 1024; // within the peer's receive window: its TCP acknowledges all of it
            conn.write(Patterns.bytes(0, size));
            Await.until("the peer's TCP acknowledged our bytes", () -> unacknowledged(conn) == 0);

            python.sendLine("reset");
            python.expect("RESET");
            // Our socket is CLOSE once the RST arrived, and the kernel's table no longer lists it.
            Await.until("the peer's RST reached our socket", () -> TcpStates.of(ourPort, peerPort).isEmpty());

            FinishResult result = conn.finish(FINISH);

            assertFalse(result.delivered(), result::toString);
            assertEquals(PeerEnding.RST, result.peerEnding(), result::toString);
            ConnectionEnding ending = conn.ending().orElseThrow();
            assertEquals(ConnectionEnding.Mode.ABORTED, ending.mode(), ending::toString);
        }
    }

    /**
     * A peer that read everything and keeps its socket open without a word is not waited for
     * until the finish deadline (10 minutes here, past the test's timeout), only for the quiet
     * period; the peer still saw every byte and then FIN.
     * Checked: with LingeringClose's quiet-period exit removed (the wait for FIN lasting to the
     * deadline, as before), the test timed out.
     */
    @ParameterizedTest
    @EnumSource(Side.class)
    void aQuietPeerIsNotWaitedForBeyondTheQuietPeriod(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            JdkPeer peer = p.peer();
            CompletableFuture<Received> received = peer.readToEndAsync().thenApply(Received::of); // stays open
            long total = 256 * 1024;
            conn.finishQuietPeriod(Duration.ofMillis(200));
            Patterns.write(total, conn::write);

            FinishResult result = conn.finish(Duration.ofMinutes(10));

            TransportUnderTest.assertDelivered(result);
            assertEquals(PeerEnding.TIMEOUT, result.peerEnding(), result::toString);
            assertTrue(result.reason().contains("quiet"), result::toString);
            Received got = received.get(30, TimeUnit.SECONDS);
            assertEquals(Seen.End.EOF, got.end(), got::toString);
            assertTrue(got.isPattern(total), got::toString);
        }
    }

    /**
     * The peer sends FIN, then, while our bytes are still unacknowledged (its window is full) and
     * our FIN waits behind them, resets. No read can see that RST (Linux reads the FIN first):
     * finish() must notice it anyway, and report not delivered at once instead of waiting for a
     * deadline (10 minutes here, past the test's timeout). Checked: without LingeringClose asking
     * for the pending error while it waits after the peer's FIN, the test timed out.
     */
    @Test
    void aResetAfterThePeersFinEndsTheWaitForAcknowledgement() throws Exception {
        try (JdkPeer.Server server = JdkPeer.Server.open(4096);
             TcpConnection conn = TcpConnection.connect(server.address(), Duration.ofSeconds(10));
             JdkPeer peer = server.accept()) {
            int ourPort = conn.localAddress().getPort();
            int peerPort = peer.socket().getLocalPort();
            // Room in our send buffer, none in the peer's window (it never reads): the write
            // completes, and most of its bytes stay unacknowledged.
            SocketOptionsOf.socket(conn).options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_SNDBUF, 1 << 20);
            conn.write(new byte[64 * 1024]);
            peer.sendFin();
            CompletableFuture<FinishResult> finishing = CompletableFuture.supplyAsync(() -> conn.finish(Duration.ofMinutes(10)));
            // Our shutdown(SHUT_WR) after the peer's FIN moves our socket from CLOSE_WAIT to LAST_ACK.
            Await.until("finish() sent (queued) our FIN", () -> TcpStates.of(ourPort, peerPort)
                    .map(state -> state == TcpStates.State.LAST_ACK).orElse(false));

            peer.reset();

            FinishResult result = finishing.get(50, TimeUnit.SECONDS);
            assertFalse(result.delivered(), result::toString);
            assertEquals(PeerEnding.RST, result.peerEnding(), result::toString);
            assertTrue(result.unacknowledgedBytes() > 0, result::toString);
        }
    }

    /**
     * A write of a ByteBuffer that times out part-way leaves the position after exactly the bytes
     * the kernel took, and the exception says how many. Checked: with the position advanced only
     * on success (as before), the test failed.
     */
    @Test
    void aByteBufferWriteThatFailsPartWayAdvancesByWhatWasSent() throws Exception {
        try (JdkPeer.Server server = JdkPeer.Server.open(16 * 1024);
             TcpConnection conn = TcpConnection.connect(server.address(), Duration.ofSeconds(10));
             JdkPeer peer = server.accept()) {
            ByteBuffer buffer = ByteBuffer.wrap(Patterns.bytes(0, 64 << 20)); // far beyond every buffer
            conn.writeTimeout(Duration.ofMillis(300));                    // the peer never reads

            SocketTimeoutException e = assertThrows(SocketTimeoutException.class, () -> conn.write(buffer));

            assertTrue(buffer.position() > 0, "the kernel took some bytes before the buffers filled");
            assertEquals(conn.bytesWritten(), buffer.position(), "position = bytes the kernel took");
            assertEquals(buffer.position(), e.bytesTransferred);
            assertTrue(conn.isPoisoned());
            conn.abort();
            Seen seen = peer.readToEnd();
            assertTrue(seen.isReset(), seen::toString);
            assertTrue(seen.data().length <= buffer.position(), seen::toString);
        }
    }

    /**
     * After the peer's reset, every write says reset, not "closed by our side" (which is what a
     * poisoned connection said before). Checked: with ConnectionOutput.checkWritable not consulting
     * the socket's recorded failure, the second write threw ConnectionClosedException.
     */
    @ParameterizedTest
    @EnumSource(Side.class)
    void everyWriteAfterAPeerResetSaysReset(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            p.peer().reset();
            byte[] chunk = new byte[64 * 1024];
            IOException first = assertThrows(IOException.class, () -> {
                while (true) {
                    conn.write(chunk); // succeeds until our side has seen the RST
                }
            });
            assertTrue(first instanceof ConnectionResetException, () -> "first: " + first);
            assertThrows(ConnectionResetException.class, () -> conn.write(chunk));
            assertThrows(ConnectionResetException.class, () -> conn.outputStream().write(chunk));
            assertThrows(ConnectionResetException.class, () -> conn.read(new byte[8]));
            assertTrue(conn.isOpen(), "our side has not ended it: isOpen() speaks of our side");
            conn.close();
            assertEquals(ConnectionEnding.Mode.ABORTED, conn.ending().orElseThrow().mode());
        }
    }

    /**
     * Both addresses are still known after the ending. Checked: without NativeSocket.close keeping
     * the local address, localAddress() threw ConnectionClosedException.
     */
    @ParameterizedTest
    @EnumSource(Side.class)
    void addressesAreStillKnownAfterAnAbort(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            conn.abort();
            assertEquals(p.peer().socket().getPort(), conn.localAddress().getPort());
            assertEquals(p.peer().socket().getLocalPort(), conn.remoteAddress().getPort());
        }
    }

    /**
     * A closed view is never handed out again: after closing the stream views, the next call
     * returns a fresh view that works. Checked: returning the cached view even when closed failed it.
     */
    @Test
    void closedViewsAreReplacedByFreshOnes() throws Exception {
        try (Pair p = Pair.open(Side.CONNECTED)) {
            TcpConnection conn = p.connection();
            OutputStream out = conn.outputStream();
            assertSame(out, conn.outputStream(), "the same view while it is open");
            out.write("one ".getBytes(StandardCharsets.US_ASCII));
            out.close(); // flushes, closes only the view
            OutputStream again = conn.outputStream();
            assertNotSame(out, again);
            again.write("two".getBytes(StandardCharsets.US_ASCII));
            again.flush();
            assertArrayEquals("one two".getBytes(StandardCharsets.US_ASCII), p.peer().readExactly(7));

            InputStream in = conn.inputStream();
            in.close();
            InputStream inAgain = conn.inputStream();
            assertNotSame(in, inAgain);
            p.peer().write("x");
            assertEquals('x', inAgain.read());

            TransportUnderTest.assertDelivered(conn.finish(FINISH));
            assertTrue(p.peer().readToEndAndClose().isEof());
        }
    }

    /** finish(Duration.ZERO) is refused and ends nothing: the connection can still finish. */
    @Test
    void finishWithAZeroTimeoutIsRefusedAndEndsNothing() throws Exception {
        try (Pair p = Pair.open(Side.CONNECTED)) {
            TcpConnection conn = p.connection();
            assertThrows(IllegalArgumentException.class, () -> conn.finish(Duration.ZERO));
            assertThrows(IllegalArgumentException.class, () -> conn.finish(Duration.ofMillis(-1)));
            assertTrue(conn.isOpen());
            conn.write("still open".getBytes(StandardCharsets.US_ASCII));
            CompletableFuture<Seen> seen = p.peer().readToEndAndCloseAsync();
            TransportUnderTest.assertDelivered(conn.finish(FINISH));
            seen.get(30, TimeUnit.SECONDS).assertEof("still open".getBytes(StandardCharsets.US_ASCII));
        }
    }

    static long unacknowledged(TcpConnection conn) {
        try {
            return SocketOptionsOf.socket(conn).options().unacknowledged();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
