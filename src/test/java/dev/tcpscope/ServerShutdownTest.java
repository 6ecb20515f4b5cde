package dev.tcpscope;

import dev.tcpscope.server.RunningServer;
import dev.tcpscope.server.ServerIo;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.BusyCarriers;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shutdown as the peers see it: accepting stops at once; handlers that finish within the drain
 * period end gracefully (EOF after every byte); those still blocked when it is over are aborted
 * (RST); serve() and shutdown() return.
 */
@Timeout(60)
@SuppressWarnings("try") // peers are closed early on purpose (their FIN ends the server's lingering close)
class ServerShutdownTest {

    private static final String HELLO = "hello from the handler\n";

    private static TcpServer.Builder loopback() {
        return TcpServer.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    /** A handler that greets, then reads a request line and answers it. */
    private static TcpServer.Handler greetThenAnswer(TcpServer server) {
        return (conn, scope) -> {
            ServerIo.write(conn, HELLO);
            String request = ServerIo.readLine(conn);
            ServerIo.write(conn, "answer to " + request + "; shutting down: " + server.isShuttingDown());
        };
    }

    @Test
    void handlersBlockedInReadAreResetAfterTheDrainPeriod() throws Exception {
        TcpServer server = loopback().drainPeriod(Duration.ofSeconds(1)).bind();
        var running = RunningServer.start(server, greetThenAnswer(server));
        List<JdkPeer> peers = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                JdkPeer peer = JdkPeer.connect(running.port());
                peers.add(peer);
                peer.readExactly(HELLO.length()); // its handler now waits in read
            }
            running.awaitStats("three handlers run", s -> s.active() == 3);

            var shutdownReturned = CompletableFuture.runAsync(server::shutdown, r -> Thread.ofPlatform().start(r));
            Await.until("the serving thread waits in drain() or join()",
                    () -> inDrainPeriod(running) || inFinalJoin(running),
                    () -> java.util.Arrays.toString(running.servingThread().getStackTrace()));
            ServerStats during = server.stats();
            if (inDrainPeriod(running)) {
                // Taken while the drain period runs: nobody has been reset yet.
                assertEquals(3, during.active(), during::toString);
                assertEquals(0, during.aborted(), during::toString);
            }
            shutdownReturned.get(); // returns once serve() is done: every handler has ended
            assertEquals(0, server.stats().active(), () -> "shutdown() returned with handlers running: " + server.stats());
            running.awaitReturn();

            for (JdkPeer peer : peers) {
                Seen received = peer.readToEnd();
                assertTrue(received.isReset(), () -> "a handler still blocked after the drain period must"
                        + " reset its peer; it saw " + received);
                assertEquals(0, received.data().length, received::toString);
            }
            ServerStats stats = server.stats();
            assertEquals(0, stats.active(), stats::toString);
            assertEquals(Map.of(AbortKind.SHUTDOWN, 3L), stats.abortedByKind(), stats::toString);
            assertEquals(0, stats.graceful(), stats::toString);
            assertTrue(server.isShuttingDown());
        } finally {
            for (JdkPeer peer : peers) {
                peer.close();
            }
            running.close();
        }
    }

    /**
     * A handler mid-way when shutdown begins, which finishes within the drain period, ends
     * gracefully: its peer gets every byte and EOF. Meanwhile new connections are refused, and the
     * handler can see that shutdown has begun.
     */
    @Test
    void handlerThatFinishesWithinTheDrainPeriodEndsGracefully() throws Exception {
        TcpServer server = loopback().drainPeriod(Duration.ofSeconds(30)).bind(); // ends early: all handlers end
        var running = RunningServer.start(server, greetThenAnswer(server));
        try (JdkPeer peer = JdkPeer.connect(running.port())) {
            peer.readExactly(HELLO.length());
            running.awaitStats("the handler runs", s -> s.active() == 1);

            var shutdownReturned = CompletableFuture.runAsync(server::shutdown, r -> Thread.ofPlatform().start(r));
            Await.until("shutdown began", server::isShuttingDown, server::stats);
            Await.until("the listener is closed", () -> !listening(running.port()), () -> "still accepting");
            assertThrows(ConnectException.class, () -> JdkPeer.connect(running.port()).close(),
                    "accepting must stop as soon as shutdown begins");
            assertFalse(shutdownReturned.isDone(), "shutdown() returned while a handler was still running");

            peer.write("the request\n");
            Seen received = peer.readToEnd();
            assertTrue(received.isEof(), () -> "a handler that finishes within the drain period must end"
                    + " gracefully; the peer saw " + received);
            assertEquals("answer to the request; shutting down: true", received.text());
            peer.close(); // our FIN completes the server's lingering close

            shutdownReturned.get(); // within the 30 s drain period: it ends when the last handler does
            running.awaitReturn();
            ServerStats stats = server.stats();
            assertEquals(1, stats.graceful(), stats::toString);
            assertEquals(0, stats.aborted(), stats::toString);
        } finally {
            running.close();
        }
    }

    /**
     * Interrupting the thread in serve() begins the shutdown: accepting stops, a handler still
     * blocked when the drain period is over is reset, and serve() returns with the interrupt
     * status set again.
     */
    @Test
    void interruptingTheServingThreadBeginsTheShutdown() throws Exception {
        TcpServer server = loopback().drainPeriod(Duration.ofMillis(300)).bind();
        var running = RunningServer.start(server, greetThenAnswer(server));
        try (JdkPeer blocked = JdkPeer.connect(running.port())) {
            blocked.readExactly(HELLO.length());
            running.awaitStats("the handler runs", s -> s.active() == 1);

            running.servingThread().interrupt();

            Seen reset = blocked.readToEnd();
            assertTrue(reset.isReset(), () -> "the blocked peer saw " + reset);
            running.awaitReturn();
            assertTrue(server.isShuttingDown());
            assertTrue(running.interruptedOnReturn(), "serve() must set the interrupt status again on return");
            assertThrows(ConnectException.class, () -> JdkPeer.connect(running.port()).close());
            ServerStats stats = server.stats();
            assertEquals(Map.of(AbortKind.SHUTDOWN, 1L), stats.abortedByKind(), stats::toString);
            server.shutdown(); // after serve() returned: returns at once
        } finally {
            running.close();
        }
    }

    /**
     * A shutdown begun by interrupting the serving thread still gives running handlers the drain
     * period: one that finishes within it ends gracefully.
     */
    @Test
    void interruptingTheServingThreadStillGivesTheDrainPeriod() throws Exception {
        TcpServer server = loopback().drainPeriod(Duration.ofSeconds(30)).bind(); // ends early: all handlers end
        var running = RunningServer.start(server, greetThenAnswer(server));
        try (JdkPeer peer = JdkPeer.connect(running.port())) {
            peer.readExactly(HELLO.length());
            running.awaitStats("the handler runs", s -> s.active() == 1);

            running.servingThread().interrupt();
            // The serving thread parks either in the drain period's wait, or (if it skipped the
            // drain period and aborted every connection) in the final join.
            Await.until("the serving thread waits in drain() or join()",
                    () -> inDrainPeriod(running) || inFinalJoin(running),
                    () -> java.util.Arrays.toString(running.servingThread().getStackTrace()));
            assertTrue(inDrainPeriod(running), "after an interrupt of the serving thread the"
                    + " server skipped the drain period: " + server.stats());

            peer.write("the request\n");
            Seen finished = peer.readToEnd();
            assertTrue(finished.isEof(), () -> "the peer saw " + finished);
            assertEquals("answer to the request; shutting down: true", finished.text());
            peer.close();

            running.awaitReturn();
            assertTrue(running.interruptedOnReturn(), "serve() must set the interrupt status again on return");
            ServerStats stats = server.stats();
            assertEquals(1, stats.graceful(), stats::toString);
            assertEquals(0, stats.aborted(), stats::toString);
        } finally {
            running.close();
        }
    }

    private static boolean inDrainPeriod(RunningServer running) {
        return parkedIn(running.servingThread(), "drain", Thread.State.TIMED_WAITING);
    }

    private static boolean inFinalJoin(RunningServer running) {
        return parkedIn(running.servingThread(), "join", Thread.State.WAITING);
    }

    /**
     * {@return whether {@code thread} is parked inside a method named {@code method}: timed (the
     * drain period's wait) or untimed (the final join)}
     */
    private static boolean parkedIn(Thread thread, String method, Thread.State parked) {
        if (thread.getState() != parked) {
            return false;
        }
        for (StackTraceElement frame : thread.getStackTrace()) {
            if (frame.getMethodName().equals(method)
                    && (frame.getClassName().equals(TcpServer.class.getName())
                        || frame.getClassName().startsWith("java.util.concurrent.StructuredTaskScope"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * A handler blocked writing to a peer that reads nothing is still aborted when the drain
     * period is over: the peer gets RST and serve() returns. (The blocked write holds the
     * connection's output lock; the abort must not wait for it.)
     */
    @Test
    void handlerBlockedInWriteIsResetAfterTheDrainPeriod() throws Exception {
        byte[] huge = new byte[64 << 20]; // far more than the socket buffers hold
        TcpServer server = loopback().drainPeriod(Duration.ofMillis(300)).bind();
        var running = RunningServer.start(server, (conn, scope) -> {
            ServerIo.readLine(conn);
            conn.write(huge);
        });
        try (JdkPeer peer = JdkPeer.connect(running.port())) {
            peer.write("hello\n");
            running.awaitStats("the handler runs", s -> s.active() == 1);
            var shutdownReturned = CompletableFuture.runAsync(server::shutdown, r -> Thread.ofPlatform().start(r));
            running.awaitReturn(Duration.ofSeconds(20)); // the peer has read nothing yet
            shutdownReturned.get();
            Seen received = peer.readToEnd();
            assertTrue(received.isReset(), received::toString);
            assertEquals(Map.of(AbortKind.SHUTDOWN, 1L), server.stats().abortedByKind(), server.stats()::toString);
        } finally {
            running.close();
        }
    }

    /** drainPeriod(0): every running handler is aborted at once, and serve() returns. */
    @Test
    void zeroDrainPeriodAbortsAtOnce() throws Exception {
        TcpServer server = loopback().drainPeriod(Duration.ZERO).bind();
        var running = RunningServer.start(server, greetThenAnswer(server));
        try (JdkPeer peer = JdkPeer.connect(running.port())) {
            peer.readExactly(HELLO.length());
            running.awaitStats("the handler runs", s -> s.active() == 1);
            server.close();
            running.awaitReturn();
            Seen received = peer.readToEnd();
            assertTrue(received.isReset(), received::toString);
            assertEquals(Map.of(AbortKind.SHUTDOWN, 1L), server.stats().abortedByKind());
        } finally {
            running.close();
        }
    }

    /**
     * Shutdown racing with connections still arriving and handlers not yet started: every peer
     * ends with RST (reset by the handler's abort, or by the kernel when the listener closes with
     * connections still queued), and shutdown returns; no handler is left running unbounded.
     */
    @Test
    void shutdownRacingWithArrivingConnectionsReturns() throws Exception {
        for (Duration drain : List.of(Duration.ZERO, Duration.ofMillis(1), Duration.ofMillis(20))) {
            TcpServer server = loopback().drainPeriod(drain).bind();
            var running = RunningServer.start(server, (conn, scope) -> conn.read(new byte[16]));
            List<JdkPeer> peers = new ArrayList<>();
            try {
                for (int i = 0; i < 50; i++) {
                    peers.add(JdkPeer.connect(running.port()));
                }
                // serve() must have begun (a shutdown before it makes serve() refuse to start);
                // the other 49 are accepted, or not, while the shutdown goes on.
                running.awaitStats("serve() accepted a first connection", s -> s.accepted() > 0);
                server.shutdown();
                running.awaitReturn();
                for (JdkPeer peer : peers) {
                    Seen received = peer.readToEnd();
                    assertTrue(received.isReset(), () -> "drain " + drain + ": a peer saw " + received);
                }
                ServerStats stats = server.stats();
                assertEquals(0, stats.active(), stats::toString);
                assertEquals(stats.accepted(), stats.aborted(), stats::toString);
            } finally {
                for (JdkPeer peer : peers) {
                    peer.close();
                }
                running.close();
            }
        }
    }

    /**
     * A connection accepted just before shutdown whose handler had not started by the time the
     * drain period ended (both carriers busy) must still be aborted once it starts: otherwise it
     * runs unbounded and serve() never returns. The two carriers are held by spinning virtual
     * threads until the serving thread has passed the drain period.
     */
    @Test
    void handlerStartingAfterTheDrainPeriodIsAborted() throws Exception {
        TcpServer server = loopback().drainPeriod(Duration.ofMillis(1)).bind();
        var running = RunningServer.start(server, (conn, scope) -> conn.read(new byte[16]));
        BusyCarriers busy = BusyCarriers.hold();
        JdkPeer peer = null;
        try {
            peer = JdkPeer.connect(running.port());
            running.awaitStats("the connection was accepted (its handler cannot start yet)", s -> s.accepted() == 1);
            var shutdownReturned = CompletableFuture.runAsync(server::shutdown, r -> Thread.ofPlatform().start(r));
            Await.until("the serving thread is past the drain period, in the final join",
                    () -> inFinalJoin(running),
                    () -> java.util.Arrays.toString(running.servingThread().getStackTrace()));
            busy.close();

            running.awaitReturn(Duration.ofSeconds(20));
            shutdownReturned.get();
            Seen received = peer.readToEnd();
            assertTrue(received.isReset(), received::toString);
            assertEquals(Map.of(AbortKind.SHUTDOWN, 1L), server.stats().abortedByKind(), server.stats()::toString);
        } finally {
            busy.close(); // again, if the test failed before: idempotent
            if (peer != null) {
                peer.close(); // unblocks a handler left running, so that cleanup cannot hang
            }
            running.close();
        }
    }

    /**
     * A handler (or one of its subtasks) may begin the shutdown itself, e.g. on an admin
     * command: shutdown() must not wait for serve() then, which waits for that very handler.
     */
    @Test
    void handlerCanShutTheServerDown() throws Exception {
        TcpServer server = loopback().drainPeriod(Duration.ofSeconds(1)).bind();
        var running = RunningServer.start(server, (conn, scope) -> {
            ServerIo.readLine(conn);
            server.shutdown(); // from the handler's own thread
            ServerIo.write(conn, "bye; shutting down: " + server.isShuttingDown());
        });
        try (JdkPeer peer = JdkPeer.connect(running.port())) {
            peer.write("shutdown\n");
            Seen received = peer.readToEnd();
            assertTrue(received.isEof(), () -> "a handler that calls shutdown() must still end normally; its peer saw "
                    + received);
            assertEquals("bye; shutting down: true", received.text());
            peer.close();
            running.awaitReturn(Duration.ofSeconds(20));
            assertEquals(1, server.stats().graceful(), server.stats()::toString);
        }

        TcpServer second = loopback().drainPeriod(Duration.ofSeconds(1)).bind();
        var secondRunning = RunningServer.start(second, (conn, scope) -> {
            ServerIo.readLine(conn);
            scope.fork(second::shutdown); // from a subtask of the handler's scope
            scope.join();
            ServerIo.write(conn, "bye");
        });
        try (JdkPeer peer = JdkPeer.connect(secondRunning.port())) {
            peer.write("shutdown from a subtask\n");
            Seen received = peer.readToEnd();
            assertTrue(received.isEof(), received::toString);
            peer.close();
            secondRunning.awaitReturn(Duration.ofSeconds(20));
        }
    }

    /**
     * A bound server keeps the options it was bound with: changing the builder afterwards (to
     * bind another server) must not change the first one's drain period.
     */
    @Test
    void builderChangesAfterBindDoNotReachTheBoundServer() throws Exception {
        TcpServer.Builder builder = loopback().drainPeriod(Duration.ofSeconds(30));
        TcpServer server = builder.bind();
        builder.drainPeriod(Duration.ZERO).handlerTimeLimit(Duration.ofNanos(1)).idleLimit(Duration.ofNanos(1));
        var running = RunningServer.start(server, greetThenAnswer(server));
        try (JdkPeer peer = JdkPeer.connect(running.port())) {
            peer.readExactly(HELLO.length());
            running.awaitStats("the handler runs", s -> s.active() == 1);
            var shutdownReturned = CompletableFuture.runAsync(server::shutdown, r -> Thread.ofPlatform().start(r));
            Await.until("the serving thread waits in drain() or join()",
                    () -> inDrainPeriod(running) || inFinalJoin(running),
                    () -> java.util.Arrays.toString(running.servingThread().getStackTrace()));
            assertTrue(inDrainPeriod(running), "the bound server took the drain period set after bind()");
            peer.write("the request\n");
            Seen received = peer.readToEnd();
            assertTrue(received.isEof(), received::toString);
            peer.close();
            shutdownReturned.get();
            running.awaitReturn();
            assertEquals(1, server.stats().graceful(), server.stats()::toString);
        } finally {
            running.close();
        }
    }

    /** shutdown() before serve(): serve() then refuses to start. close() is idempotent. */
    @Test
    void shutdownBeforeServe() throws Exception {
        TcpServer server = loopback().bind();
        server.shutdown();
        server.close();
        assertTrue(server.isShuttingDown());
        assertThrows(IllegalStateException.class, () -> server.serve((conn, scope) -> {}));
        assertThrows(ConnectException.class, () -> JdkPeer.connect(server.localAddress().getPort()).close());
    }

    private static boolean listening(int port) {
        return dev.tcpscope.server.ListenQueue.pending(port) >= 0;
    }
}
