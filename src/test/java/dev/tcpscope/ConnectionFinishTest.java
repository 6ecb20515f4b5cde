package dev.tcpscope;

import dev.tcpscope.testing.TransportUnderTest;

import dev.tcpscope.internal.socket.SocketOptions;
import dev.tcpscope.peers.Pair;
import dev.tcpscope.peers.Pair.Side;
import dev.tcpscope.peers.PythonPeer;
import dev.tcpscope.peers.Received;
import dev.tcpscope.peers.TcpStates;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.JdkPeer;
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
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The graceful ending, {@link TcpConnection#finish}, observed by the peer: every byte then EOF
 * when delivery is confirmed; RST when it is not. JDK and Python peers.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConnectionFinishTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    /** Generous: a finish that should succeed must never fail for lack of time on a loaded machine. */
    static final Duration FINISH = Duration.ofSeconds(30);
    static final long SEVERAL_MIB = 8L << 20;

    // ------------------------------------------------------------ every byte, then EOF

    @ParameterizedTest
    @EnumSource(Side.class)
    void finishAfterSeveralMiBDeliversEveryByteThenFin(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            // The peer closes after EOF: its FIN.
            CompletableFuture<Received> received = p.peer().readToEndAndCloseAsync().thenApply(Received::of);

            Patterns.write(SEVERAL_MIB, conn::write);
            FinishResult result = conn.finish(FINISH);

            Received got = received.get(30, TimeUnit.SECONDS);
            assertEquals(Seen.End.EOF, got.end(), got::toString);
            assertTrue(got.isPattern(SEVERAL_MIB), () -> "the peer read " + got + ", not the " + SEVERAL_MIB
                    + " pattern bytes we wrote");
            assertEquals(new FinishResult(FinishResult.Delivery.CONFIRMED, 0, PeerEnding.FIN, 0, result.reason()), result);
            ConnectionEnding ending = conn.ending().orElseThrow();
            assertEquals(ConnectionEnding.Mode.GRACEFUL, ending.mode());
            assertEquals(SEVERAL_MIB, ending.bytesWritten());
        }
    }

    @Test
    void finishAfterSeveralMiBToAPythonPeer() throws Exception {
        try (TcpListener listener = bindLoopback();
             PythonPeer python = PythonPeer.start(listener.localAddress().getPort());
             TcpConnection conn = listener.accept(Duration.ofSeconds(30))) {
            python.awaitReady();

            Patterns.write(SEVERAL_MIB, conn::write);
            FinishResult result = conn.finish(FINISH);

            Received got = python.awaitReceived();
            assertEquals(Seen.End.EOF, got.end(), got::toString);
            assertTrue(got.isPattern(SEVERAL_MIB), got::toString);
            python.expect("CLOSED");
            assertEquals(0, python.awaitExit(), python::describe);
            assertEquals(new FinishResult(FinishResult.Delivery.CONFIRMED, 0, PeerEnding.FIN, 0, result.reason()), result);
        }
    }

    // ------------------------------------------------------------ input we never read

    @ParameterizedTest
    @EnumSource(Side.class)
    void finishWhileThePeerKeepsSendingInputWeNeverRead(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            JdkPeer peer = p.peer();
            AtomicBoolean stop = new AtomicBoolean();
            CompletableFuture<Long> peerWriter = Forked.onPlatformThread("peer-writer", () -> {
                byte[] chunk = new byte[64 * 1024];
                while (!stop.get()) {
                    peer.write(chunk);
                }
                return peer.written();
            });
            CompletableFuture<Received> peerReader = Forked.onPlatformThread("peer-reader", () -> {
                Received r = Received.of(peer.readToEnd());
                stop.set(true);
                peerWriter.join();
                peer.sendFin(); // only once it has read our FIN and stopped writing
                return r;
            });
            Await.until("the peer's input reaches us", () -> available(conn) > 0);

            long total = 4L << 20;
            Patterns.write(total, conn::write);
            FinishResult result = conn.finish(FINISH);

            Received got = peerReader.get(30, TimeUnit.SECONDS);
            assertEquals(Seen.End.EOF, got.end(), () -> "the data-loss RST? " + got);
            assertTrue(got.isPattern(total), got::toString);
            TransportUnderTest.assertDelivered(result);
            assertEquals(PeerEnding.FIN, result.peerEnding());
            assertEquals(peerWriter.get(), result.bytesDiscarded(), "every byte the peer sent was read and discarded");
            assertEquals(result.bytesDiscarded(), conn.ending().orElseThrow().bytesRead());
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void finishWhileThePeerIsBlockedWritingToUs(Side side) throws Exception {
        long peerSends = 24L << 20; // far beyond what the socket buffers hold while nobody reads
        int weSend = 32 * 1024;     // fits in the peer's receive window although it does not read yet
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            JdkPeer peer = p.peer();
            CompletableFuture<Received> peerSide = writesThenReadsToEnd(peer, peerSends);
            Await.until("the peer's input reaches us", () -> available(conn) > 0);

            Patterns.write(weSend, conn::write);
            assertTrue(peer.written() < peerSends, "the peer should still be blocked writing");
            FinishResult result = conn.finish(FINISH);

            Received got = peerSide.get(30, TimeUnit.SECONDS);
            assertEquals(Seen.End.EOF, got.end(), () -> "the data-loss RST? " + got);
            assertTrue(got.isPattern(weSend), got::toString);
            assertEquals(new FinishResult(FinishResult.Delivery.CONFIRMED, 0, PeerEnding.FIN, peerSends, result.reason()), result);
        }
    }

    @Test
    void finishWhileAPythonPeerIsBlockedWritingToUs() throws Exception {
        long peerSends = 24L << 20;
        int weSend = 32 * 1024;
        try (TcpListener listener = bindLoopback();
             PythonPeer python = PythonPeer.start(listener.localAddress().getPort(), "--send", Long.toString(peerSends));
             TcpConnection conn = listener.accept(Duration.ofSeconds(30))) {
            python.awaitReady();
            Await.until("the peer's input reaches us", () -> available(conn) > 0);

            Patterns.write(weSend, conn::write);
            FinishResult result = conn.finish(FINISH);

            python.expect("SENT");
            Received got = python.awaitReceived();
            assertEquals(Seen.End.EOF, got.end(), () -> "the data-loss RST? " + got);
            assertTrue(got.isPattern(weSend), got::toString);
            python.expect("CLOSED");
            assertEquals(new FinishResult(FinishResult.Delivery.CONFIRMED, 0, PeerEnding.FIN, peerSends, result.reason()), result);
        }
    }

    // ------------------------------------------------------------ the peer never sends FIN

    @ParameterizedTest
    @EnumSource(Side.class)
    void finishWhenThePeerNeverSendsFinClosesNormallyAtTheDeadline(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            JdkPeer peer = p.peer();
            int ourPort = conn.localAddress().getPort();
            // The peer reads to EOF and stays open.
            CompletableFuture<Received> received = peer.readToEndAsync().thenApply(Received::of);
            long total = 1L << 20;
            Patterns.write(total, conn::write);
            // The deadline below is for the peer's FIN only: let it read our bytes first.
            Await.until("the peer read our bytes", () -> peer.received() == total);

            FinishResult result = conn.finish(Duration.ofMillis(1500));

            TransportUnderTest.assertDelivered(result);
            assertEquals(0, result.unacknowledgedBytes());
            assertEquals(PeerEnding.TIMEOUT, result.peerEnding());
            assertEquals(ConnectionEnding.Mode.GRACEFUL, conn.ending().orElseThrow().mode());
            Received got = received.get(30, TimeUnit.SECONDS);
            assertEquals(Seen.End.EOF, got.end(), got::toString);
            assertTrue(got.isPattern(total), got::toString);

            // Our close(2) has happened; the peer's socket got no RST: it is still in CLOSE_WAIT
            // (a RST would have closed it), and ours lingers in FIN_WAIT2 as after any clean close.
            Await.until("our descriptor is released", () -> SocketOptionsOf.socket(conn).descriptor().isReleased());
            assertEquals(Optional.of(TcpStates.State.CLOSE_WAIT), TcpStates.of(peer.localPort(), ourPort),
                    "the peer's socket after our close");
            assertEquals(Optional.of(TcpStates.State.FIN_WAIT2), TcpStates.of(ourPort, peer.localPort()),
                    "our socket after its close");
            assertEquals(-1, peer.socket().getInputStream().read(), "the peer reads EOF again");
        }
    }

    @Test
    void finishWhenAPythonPeerNeverSendsFin() throws Exception {
        try (TcpListener listener = bindLoopback();
             PythonPeer python = PythonPeer.start(listener.localAddress().getPort(), "--hold");
             TcpConnection conn = listener.accept(Duration.ofSeconds(30))) {
            python.awaitReady();
            long total = 256 * 1024; // read at once by the peer: the deadline is for its FIN
            Patterns.write(total, conn::write);

            FinishResult result = conn.finish(Duration.ofSeconds(2));

            TransportUnderTest.assertDelivered(result);
            assertEquals(PeerEnding.TIMEOUT, result.peerEnding());
            Received got = python.awaitReceived();
            assertEquals(Seen.End.EOF, got.end(), got::toString);
            assertTrue(got.isPattern(total), got::toString);
            Await.until("our descriptor is released", () -> SocketOptionsOf.socket(conn).descriptor().isReleased());
            python.sendLine("state?");
            assertEquals("STATE CLOSE_WAIT 0", python.expect("STATE"), "no RST reached the peer");
            python.expect("CLOSED");
        }
    }

    // ------------------------------------------------------------ not delivered

    @Test
    void finishTowardsAFrozenPeerReportsNotDeliveredAndResets() throws Exception {
        long total = 128 * 1024;
        try (TcpListener listener = bindLoopback();
             PythonPeer python = PythonPeer.start(listener.localAddress().getPort(), "--rcvbuf", "4096", "--wait");
             TcpConnection conn = listener.accept(Duration.ofSeconds(30))) {
            python.awaitReady();
            python.stop(); // SIGSTOP: its kernel ACKs until its small window is full, then nothing moves

            // A send buffer that surely holds what the frozen peer's window cannot; a write that
            // blocked anyway would fail here rather than hang.
            SocketOptionsOf.socket(conn).options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_SNDBUF, 512 * 1024);
            conn.writeTimeout(Duration.ofSeconds(20));
            Patterns.write(total, conn::write);

            FinishResult result = conn.finish(Duration.ofSeconds(2));

            assertFalse(result.delivered(), result::toString);
            assertTrue(result.unacknowledgedBytes() > 0 && result.unacknowledgedBytes() <= total + 1,
                    () -> "unacknowledged bytes (FIN included): " + result);
            assertEquals(PeerEnding.TIMEOUT, result.peerEnding());
            ConnectionEnding ending = conn.ending().orElseThrow();
            assertEquals(ConnectionEnding.Mode.ABORTED, ending.mode());
            assertEquals(result, ending.result());

            python.resume();
            python.sendLine("read now");
            Received got = python.awaitReceived();
            assertEquals(Seen.End.RESET, got.end(), got::toString);
            assertTrue(got.bytes() < total, got::toString);
            assertTrue(got.isPatternPrefix(), got::toString);
            python.expect("CLOSED");
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void anInterruptedFinishAbortsPromptly(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            JdkPeer peer = p.peer();
            int ourPort = conn.localAddress().getPort();
            CompletableFuture<Received> received = peer.readToEndAsync().thenApply(Received::of); // never sends its FIN
            conn.write(Patterns.bytes(0, 1000));

            Forked<FinishResult> finisher = Forked.start(Forked.Kind.PLATFORM, "finisher",
                    () -> conn.finish(Duration.ofMinutes(5)));
            assertEquals(Seen.End.EOF, received.get(30, TimeUnit.SECONDS).end()); // finish is under way
            // Everything, FIN included, acknowledged: finish() now waits for the peer's FIN, parked
            // on the socket's readiness while it drains.
            Await.until("everything acknowledged", () -> {
                try {
                    return SocketOptionsOf.socket(conn).options().unacknowledged() == 0;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Parked.await(finisher.thread(), blocker -> blocker instanceof dev.tcpscope.internal.poll.Readiness,
                    "waiting for the peer's FIN (draining)");
            finisher.thread().interrupt();

            Forked.Outcome<FinishResult> outcome = finisher.await(Duration.ofSeconds(30)); // long before 5 min
            FinishResult result = outcome.assertReturned();
            assertFalse(result.delivered(), result::toString);
            assertTrue(result.reason().contains("interrupted"), result::toString);
            assertTrue(outcome.interruptedAtEnd(), "the interrupt status is kept");
            assertEquals(ConnectionEnding.Mode.ABORTED, conn.ending().orElseThrow().mode());
            // A RST after our FIN reads as EOF, but it closed the peer's socket (no CLOSE_WAIT left).
            Await.until("the peer's socket was reset", () -> TcpStates.of(peer.localPort(), ourPort).isEmpty());
        }
    }

    // ------------------------------------------------------------ half-close

    @ParameterizedTest
    @EnumSource(Side.class)
    void shutdownOutputSendsEofWhileWeStillReadTheReply(Side side) throws Exception {
        int request = 5000, reply = 100_000;
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            JdkPeer peer = p.peer();
            CompletableFuture<Received> peerSide = Forked.onPlatformThread("peer", () -> {
                Received r = Received.of(peer.readToEnd());
                peer.writePattern(reply);
                peer.sendFin();
                return r;
            });

            Patterns.write(request, conn::write);
            conn.shutdownOutput();

            Received got = peerSide.get(30, TimeUnit.SECONDS); // before we read anything
            assertEquals(Seen.End.EOF, got.end(), got::toString);
            assertTrue(got.isPattern(request), got::toString);
            assertThrows(ConnectionClosedException.class, () -> conn.write(new byte[1]), "write after shutdownOutput");

            byte[] replyBytes = conn.inputStream().readAllBytes();
            assertEquals(reply, replyBytes.length);
            assertTrue(java.util.Arrays.equals(Patterns.bytes(0, reply), replyBytes));

            FinishResult result = conn.finish(FINISH);
            assertEquals(new FinishResult(FinishResult.Delivery.CONFIRMED, 0, PeerEnding.FIN, 0, result.reason()), result);
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void afterShutdownInputReadsEndAndFinishStillDrainsThePeersInput(Side side) throws Exception {
        long peerSends = 4L << 20;
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            JdkPeer peer = p.peer();
            conn.shutdownInput();
            assertEquals(-1, conn.read(new byte[10]));
            assertEquals(0, conn.available());

            // Nothing told the peer to stop sending.
            CompletableFuture<Received> peerSide = writesThenReadsToEnd(peer, peerSends);
            Await.until("the peer's input reaches us", () -> unread(conn) > 0);
            assertEquals(-1, conn.read(new byte[10]), "still the end of input for us");

            conn.write(Patterns.bytes(0, 1000));
            FinishResult result = conn.finish(FINISH);

            Received got = peerSide.get(30, TimeUnit.SECONDS);
            assertEquals(Seen.End.EOF, got.end(), () -> "the data-loss RST? " + got);
            assertTrue(got.isPattern(1000), got::toString);
            assertEquals(new FinishResult(FinishResult.Delivery.CONFIRMED, 0, PeerEnding.FIN, peerSends, result.reason()), result);
        }
    }

    // ------------------------------------------------------------ helpers

    /**
     * A peer of the simplest kind, on a platform thread: writes its whole request ({@code bytes}
     * pattern bytes), then reads the response to its end and closes.
     */
    static CompletableFuture<Received> writesThenReadsToEnd(JdkPeer peer, long bytes) {
        return Forked.onPlatformThread("peer", () -> {
            peer.writePattern(bytes);
            return Received.of(peer.readToEndAndClose());
        });
    }

    static TcpListener bindLoopback() throws IOException {
        return TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    static int unread(TcpConnection conn) {
        try {
            return SocketOptionsOf.socket(conn).options().unread();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int available(TcpConnection conn) {
        try {
            return conn.available();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
