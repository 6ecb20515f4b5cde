package dev.tcpscope;

import dev.tcpscope.testing.TransportUnderTest;

import dev.tcpscope.peers.Pair;
import dev.tcpscope.peers.Pair.Side;
import dev.tcpscope.peers.Received;
import dev.tcpscope.peers.TcpStates;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import dev.tcpscope.testing.Patterns;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Misuse gets clear exceptions: I/O after an ending, writes after shutdownOutput, meaningless
 * timeouts. Concurrent endings: exactly one wins; the others wait for it and report its outcome.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConnectionMisuseTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    // ------------------------------------------------------------ I/O after an ending

    @ParameterizedTest
    @EnumSource(Side.class)
    void ioAfterAbortThrowsConnectionClosed(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            conn.abort();
            assertAllIoRefused(conn);
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void ioAfterFinishThrowsConnectionClosed(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            CompletableFuture<Received> received = p.peer().readToEndAndCloseAsync().thenApply(Received::of);
            FinishResult result = conn.finish(ConnectionFinishTest.FINISH);
            TransportUnderTest.assertDelivered(result);

            assertAllIoRefused(conn);
            assertSame(result, conn.finish(ConnectionFinishTest.FINISH), "finish again reports the same outcome");
            conn.abort(); // no effect now
            conn.close();
            assertEquals(ConnectionEnding.Mode.GRACEFUL, conn.ending().orElseThrow().mode());
            assertEquals(Seen.End.EOF, received.get(30, TimeUnit.SECONDS).end());
        }
    }

    private static void assertAllIoRefused(TcpConnection conn) {
        assertFalse(conn.isOpen());
        List<Executable> operations = List.of(
                () -> conn.read(new byte[10]),
                () -> conn.read(ByteBuffer.allocate(10)),
                () -> conn.write(new byte[10]),
                () -> conn.write(ByteBuffer.allocate(10)),
                () -> conn.inputStream().read(),
                () -> conn.outputStream().write(1),
                () -> conn.channel().read(ByteBuffer.allocate(10)),
                () -> conn.channel().write(ByteBuffer.allocate(10)),
                conn::shutdownOutput,
                () -> conn.awaitPeerEnding(Duration.ofSeconds(1)),
                conn::available);
        for (Executable operation : operations) {
            assertThrows(ConnectionClosedException.class, operation);
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void writeAfterShutdownOutputThrowsButReadingGoesOn(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            conn.shutdownOutput();

            assertThrows(ConnectionClosedException.class, () -> conn.write(new byte[1]));
            assertThrows(ConnectionClosedException.class, () -> conn.write(ByteBuffer.allocate(1)));
            assertThrows(ConnectionClosedException.class, () -> {
                conn.outputStream().write(new byte[1]);
                conn.outputStream().flush();
            });
            assertThrows(ConnectionClosedException.class, conn::shutdownOutput);
            assertFalse(conn.isPoisoned(), "refusing a write is not a failed write");

            p.peer().write(new byte[] {7});
            byte[] one = new byte[1];
            assertEquals(1, conn.read(one));
            assertEquals(7, one[0]);
            assertEquals(-1, p.peer().socket().getInputStream().read(), "the peer saw our FIN");
        }
    }

    // ------------------------------------------------------------ meaningless timeouts

    @ParameterizedTest
    @EnumSource(Side.class)
    void zeroAndNegativeTimeoutsAreRejectedAndLeaveTheConnectionUsable(Side side) throws Exception {
        try (Pair p = Pair.open(side);
             TcpListener listener = ConnectionFinishTest.bindLoopback()) {
            TcpConnection conn = p.connection();
            for (Duration bad : List.of(Duration.ZERO, Duration.ofMillis(-1), Duration.ofSeconds(-10))) {
                assertThrows(IllegalArgumentException.class, () -> conn.readTimeout(bad), bad::toString);
                assertThrows(IllegalArgumentException.class, () -> conn.writeTimeout(bad), bad::toString);
                assertThrows(IllegalArgumentException.class, () -> conn.finish(bad), bad::toString);
                assertThrows(IllegalArgumentException.class, () -> conn.awaitPeerEnding(bad), bad::toString);
                assertThrows(IllegalArgumentException.class, () -> listener.accept(bad), bad::toString);
                assertThrows(IllegalArgumentException.class,
                        () -> TcpConnection.connect(listener.localAddress(), bad), bad::toString);
            }
            assertTrue(conn.isOpen(), "a rejected finish() must not begin an ending");
            assertTrue(conn.ending().isEmpty());
            assertNull(conn.readTimeout(), "a rejected timeout leaves the setting as it was");
            conn.readTimeout(Duration.ofSeconds(7));
            conn.writeTimeout(Duration.ofSeconds(8));
            assertEquals(Duration.ofSeconds(7), conn.readTimeout());
            assertEquals(Duration.ofSeconds(8), conn.writeTimeout());
            conn.readTimeout(null); // null: no timeout
            conn.writeTimeout(null);
            assertNull(conn.readTimeout());
            assertNull(conn.writeTimeout());

            CompletableFuture<Received> received = p.peer().readToEndAndCloseAsync().thenApply(Received::of);
            conn.write(Patterns.bytes(0, 100));
            FinishResult result = conn.finish(ConnectionFinishTest.FINISH);
            TransportUnderTest.assertDelivered(result);
            assertTrue(received.get(30, TimeUnit.SECONDS).isPattern(100));
        }
    }

    // ------------------------------------------------------------ concurrent endings

    @ParameterizedTest
    @EnumSource(Side.class)
    void endingsCalledDuringAFinishWaitForItAndReportItsOutcome(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            int ourPort = conn.localAddress().getPort();
            AtomicInteger observed = new AtomicInteger();
            conn.onEnded(e -> observed.incrementAndGet());
            CompletableFuture<Received> received = p.peer().readToEndAsync().thenApply(Received::of); // holds its FIN
            conn.write(Patterns.bytes(0, 100_000));

            Forked<FinishResult> first = Forked.start(Forked.Kind.PLATFORM, "finish-1",
                    () -> conn.finish(ConnectionFinishTest.FINISH));
            Received got = received.get(30, TimeUnit.SECONDS); // our FIN arrived: finish waits for the peer's
            assertEquals(Seen.End.EOF, got.end(), got::toString);
            assertFalse(conn.isOpen());

            Forked<FinishResult> second = Forked.start(Forked.Kind.VIRTUAL, "finish-2",
                    () -> conn.finish(ConnectionFinishTest.FINISH));
            Forked<Void> aborter = Forked.start(Forked.Kind.VIRTUAL, "abort", () -> {
                conn.abort(new IOException("too late"));
                return null;
            });
            Forked<Void> closer = Forked.start(Forked.Kind.PLATFORM, "close", () -> {
                conn.close();
                return null;
            });
            for (Forked<?> waiter : List.of(second, aborter, closer)) {
                Parked.await(waiter.thread(), b -> b.getClass().getName().startsWith(CompletableFuture.class.getName()),
                        "the ending under way");
            }
            assertTrue(conn.ending().isEmpty());

            p.peer().sendFin();

            FinishResult result = first.await().assertReturned();
            TransportUnderTest.assertDelivered(result);
            assertEquals(PeerEnding.FIN, result.peerEnding());
            assertSame(result, second.await().assertReturned());
            aborter.await().assertReturned();
            closer.await().assertReturned();
            ConnectionEnding ending = conn.ending().orElseThrow();
            assertEquals(ConnectionEnding.Mode.GRACEFUL, ending.mode());
            assertSame(result, ending.result());
            assertEquals(1, observed.get(), "the ending is recorded once");
            // The late abort sent nothing: our socket went through a clean close to TIME_WAIT.
            assertEquals(Optional.of(TcpStates.State.TIME_WAIT), TcpStates.of(ourPort, p.peer().localPort()));
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void finishAfterAbortReportsTheAbort(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            CompletableFuture<Received> received = p.peer().readToEndAndCloseAsync().thenApply(Received::of);
            conn.write(Patterns.bytes(0, 100));
            conn.abort();

            FinishResult result = conn.finish(ConnectionFinishTest.FINISH);

            assertFalse(result.delivered());
            assertEquals(PeerEnding.UNKNOWN, result.peerEnding());
            assertSame(conn.ending().orElseThrow().result(), result);
            assertEquals(Seen.End.RESET, received.get(30, TimeUnit.SECONDS).end());
        }
    }

    @Test
    void racingFinishesAndAbortHaveExactlyOneWinner() throws Exception {
        int graceful = 0, aborted = 0;
        for (int round = 0; round < 20; round++) {
            try (Pair p = Pair.open(round % 2 == 0 ? Side.CONNECTED : Side.ACCEPTED)) {
                TcpConnection conn = p.connection();
                AtomicInteger observed = new AtomicInteger();
                conn.onEnded(e -> observed.incrementAndGet());
                CompletableFuture<Received> received = p.peer().readToEndAndCloseAsync().thenApply(Received::of);
                conn.write(Patterns.bytes(0, 10_000));
                CyclicBarrier start = new CyclicBarrier(3);
                Forked<FinishResult> f1 = Forked.start(Forked.Kind.VIRTUAL, "finish-1", () -> {
                    start.await();
                    return conn.finish(ConnectionFinishTest.FINISH);
                });
                Forked<FinishResult> f2 = Forked.start(Forked.Kind.PLATFORM, "finish-2", () -> {
                    start.await();
                    return conn.finish(ConnectionFinishTest.FINISH);
                });
                Forked<Void> a = Forked.start(round % 3 == 0 ? Forked.Kind.VIRTUAL : Forked.Kind.PLATFORM, "abort", () -> {
                    start.await();
                    conn.abort();
                    return null;
                });

                FinishResult r1 = f1.await(Duration.ofSeconds(40)).assertReturned();
                FinishResult r2 = f2.await(Duration.ofSeconds(40)).assertReturned();
                a.await(Duration.ofSeconds(40)).assertReturned();
                ConnectionEnding ending = conn.ending().orElseThrow();
                assertSame(r1, r2);
                assertSame(r1, ending.result());
                assertEquals(1, observed.get());
                Received got = received.get(30, TimeUnit.SECONDS);
                if (ending.mode() == ConnectionEnding.Mode.GRACEFUL) {
                    graceful++;
                    TransportUnderTest.assertDelivered(r1);
                    assertEquals(Seen.End.EOF, got.end(), got::toString);
                    assertTrue(got.isPattern(10_000), got::toString);
                } else {
                    aborted++;
                    assertFalse(r1.delivered(), r1::toString);
                    assertEquals(Seen.End.RESET, got.end(), got::toString);
                }
            }
        }
        assertEquals(20, graceful + aborted);
    }

    // ------------------------------------------------------------ connect failures leave nothing open

    @Test
    void aRefusedConnectLeavesNoSocketOpen() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        assertThrows(java.net.ConnectException.class, () -> TcpConnection.connect(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), port), Duration.ofSeconds(10)));
    }

    /**
     * localAddress() and remoteAddress() are one shape (InetSocketAddress, no checked exception)
     * and still answer after an abort, on both transports: the peer's socket names the same
     * ports. Checked: with NativeSocket.close no longer keeping the local address,
     * localAddress() after the abort threw on native (UncheckedIOException around the
     * ConnectionClosedException of getsockname on the closed descriptor).
     */
    @ParameterizedTest
    @EnumSource(Side.class)
    void addressesAreKnownAfterAnAbort(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            conn.abort();
            p.peer().readToEnd().assertReset();
            InetSocketAddress local = conn.localAddress();
            InetSocketAddress remote = conn.remoteAddress();
            assertEquals(p.peer().socket().getPort(), local.getPort());
            assertEquals(p.peer().socket().getLocalPort(), remote.getPort());
            assertEquals(p.peer().socket().getInetAddress(), local.getAddress());
        }
    }
}
