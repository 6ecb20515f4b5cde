package dev.tcpscope;

import dev.tcpscope.server.ListenQueue;
import dev.tcpscope.server.PoolOwner;
import dev.tcpscope.server.RunningServer;
import dev.tcpscope.server.ServerIo;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.tcpscope.testing.Patterns.seeded;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A handler transfers its connection to a pool scope owned by another thread: the server leaves
 * it alone — when the handler returns, when the handler is cut off by the shutdown — the pool
 * writes more later and finishes, and the peer sees every byte and FIN; the connection keeps its
 * {@code maxConnections} permit until it ends.
 */
@Timeout(60)
@SuppressWarnings("try") // peers are closed early on purpose (their FIN ends the server's lingering close)
class ServerTransferTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final byte[] FIRST = "first part, from the handler\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] LATER = seeded(200_000, 61);

    private static TcpServer.Builder loopback() {
        return TcpServer.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .drainPeriod(Duration.ofMillis(200));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = new byte[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** Reads the request line, answers the first part and hands the connection to the pool. */
    private static TcpServer.Handler transferringTo(PoolOwner pool) {
        return (conn, scope) -> {
            ServerIo.readLine(conn);
            conn.write(FIRST);
            scope.transfer(conn, pool.scope());
            pool.received(conn);
        };
    }

    /**
     * Checked by breaking the code: with the server aborting every connection when its handler
     * returns (the old unconditional "handler ended without an ending"), the peer saw RST after
     * the first part.
     */
    @Test
    void aTransferredConnectionIsEndedByItsNewScope() throws Exception {
        try (PoolOwner pool = PoolOwner.start();
             var running = RunningServer.start(loopback().bind(), transferringTo(pool));
             JdkPeer peer = JdkPeer.connect(running.port())) {
            peer.write("hello\n");
            CompletableFuture<Seen> seen = peer.readToEndAndCloseAsync();
            ServerStats stats = running.awaitStats("the handler returned", s -> s.transferred() == 1 && s.active() == 0);
            assertEquals(0, stats.graceful(), stats::toString);
            assertEquals(0, stats.aborted(), stats::toString);
            assertTrue(pool.connection().isOpen(), "the server left the transferred connection open");

            pool.finishWith(LATER);
            pool.awaitFinished();
            Await.result(seen, "the peer's read").assertEof(concat(FIRST, LATER));
            assertEquals(ConnectionEnding.Mode.GRACEFUL, pool.connection().ending().orElseThrow().mode());
        }
    }

    /**
     * maxConnections(1): the transferred connection keeps the one permit, so a second client
     * waits in the accept queue until the pool has ended the first. Checked by breaking the code:
     * with the permit released when the handler returns, the second client was accepted at once.
     */
    @Test
    void aTransferredConnectionKeepsItsPermitUntilItEnds() throws Exception {
        try (PoolOwner pool = PoolOwner.start()) {
            TcpServer.Handler transfer = transferringTo(pool);
            TcpServer server = loopback().maxConnections(1).bind();
            int port = server.localAddress().getPort();
            AtomicInteger handlers = new AtomicInteger();
            try (var running = RunningServer.start(server, (conn, scope) -> {
                     if (handlers.incrementAndGet() == 1) {
                         transfer.handle(conn, scope);
                     } else {
                         ServerIo.write(conn, "second " + ServerIo.readLine(conn));
                     }
                 });
                 JdkPeer first = JdkPeer.connect(port)) {
                first.write("hello\n");
                CompletableFuture<Seen> seenFirst = first.readToEndAndCloseAsync();
                running.awaitStats("the first handler returned", s -> s.transferred() == 1 && s.active() == 0);

                try (JdkPeer second = JdkPeer.connect(port)) {
                    second.write("request\n");
                    Await.until("the second connection waits in the accept queue",
                            () -> ListenQueue.pending(port) == 1, () -> "pending " + ListenQueue.pending(port));
                    ServerStats stats = server.stats();
                    assertEquals(1, stats.accepted(), stats::toString);
                    assertEquals(1, ListenQueue.pending(port), "the second connection must not be accepted yet");

                    pool.finishWith(LATER);
                    pool.awaitFinished();
                    Await.result(seenFirst, "the first peer's read").assertEof(concat(FIRST, LATER));

                    Seen secondSeen = second.readToEndAndClose(); // served now that the permit is back
                    secondSeen.assertEof("second request".getBytes(StandardCharsets.UTF_8));
                }
                ServerStats stats = running.awaitStats("both ended", s -> s.accepted() == 2 && s.active() == 0
                        && s.graceful() == 1);
                assertEquals(1, stats.transferred(), stats::toString);
                assertEquals(Map.of(), stats.abortedByKind(), stats::toString);
            }
        }
    }

    /**
     * The handler transfers the connection, then is still running when the shutdown's drain
     * period ends: the handler is interrupted, but the transferred connection is left to the
     * pool, which outlives the server. Checked by breaking the code: with ServedConnection.expire
     * aborting the connection whoever owns it, the peer saw RST after the first part.
     */
    @Test
    void shutdownLeavesATransferredConnectionToItsScope() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        CompletableFuture<Throwable> handlerCutOff = new CompletableFuture<>();
        try (PoolOwner pool = PoolOwner.start()) {
            TcpServer.Handler transfer = transferringTo(pool);
            var running = RunningServer.start(loopback().bind(), (conn, scope) -> {
                transfer.handle(conn, scope);
                try {
                    never.await(); // still busy when the drain period ends
                } catch (InterruptedException e) {
                    handlerCutOff.complete(e);
                    throw e;
                }
            });
            try (JdkPeer peer = JdkPeer.connect(running.port())) {
                peer.write("hello\n");
                CompletableFuture<Seen> seen = peer.readToEndAndCloseAsync();
                TcpConnection transferred = pool.connection();

                running.close(); // shutdown: drain period, then the handler is interrupted; serve() returns
                Await.result(handlerCutOff, "the handler to be interrupted");
                assertTrue(transferred.isOpen(), "the shutdown left the transferred connection open");
                ServerStats stats = running.stats();
                assertEquals(1, stats.transferred(), stats::toString);
                assertEquals(0, stats.aborted(), stats::toString);

                pool.finishWith(LATER);
                pool.awaitFinished();
                Await.result(seen, "the peer's read").assertEof(concat(FIRST, LATER));
            }
        }
    }
}
