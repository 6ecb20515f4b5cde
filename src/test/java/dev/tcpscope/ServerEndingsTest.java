package dev.tcpscope;

import dev.tcpscope.server.RunningServer;
import dev.tcpscope.server.ServerIo;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.Patterns;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.StructuredTaskScope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How the handler's outcome reaches a real peer (a {@link JdkPeer}): a handler that returns
 * gives EOF after every byte; one that throws (a RuntimeException or an Error), exceeds its time
 * limit or goes idle gives RST; and the counters say which, by {@link AbortKind} (checked: with
 * the time limit recorded as IDLE, the three time-limit cases failed on their counters).
 */
@Timeout(60)
@SuppressWarnings("try") // peers are closed early on purpose (their FIN ends the server's lingering close)
class ServerEndingsTest {

    private static final byte[] PARTIAL = "partial answer".getBytes(StandardCharsets.UTF_8);

    private static TcpServer.Builder loopback() {
        return TcpServer.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .drainPeriod(Duration.ofSeconds(2));
    }

    /** Sends a request line, reads until FIN or RST, then closes (the peer's FIN ends the lingering close). */
    private static Seen exchange(int port, String request) throws IOException {
        try (JdkPeer peer = JdkPeer.connect(port)) {
            peer.write(request + "\n");
            return peer.readToEnd();
        }
    }

    @Test
    void handlerThatReturnsGivesEofAfterEveryByte() throws Exception {
        byte[] response = Patterns.seeded(1 << 20, 7); // more than the socket buffers hold
        try (var running = RunningServer.start(loopback().bind(), (conn, scope) -> {
            String request = ServerIo.readLine(conn);
            ServerIo.write(conn, request.length() + ":");
            conn.write(response);
        })) {
            Seen received = exchange(running.port(), "hello");
            assertTrue(received.isEof(), () -> "expected EOF, the peer saw " + received);
            byte[] expected = concat("5:".getBytes(StandardCharsets.UTF_8), response);
            assertArrayEquals(expected, received.data());

            ServerStats stats = running.awaitStats("the connection ended", s -> s.active() == 0 && s.accepted() == 1);
            assertEquals(1, stats.graceful(), stats::toString);
            assertEquals(0, stats.aborted(), stats::toString);
        }
    }

    @Test
    void handlerThatThrowsRuntimeExceptionGivesReset() throws Exception {
        try (var running = RunningServer.start(loopback().bind(), (conn, scope) -> {
            ServerIo.readLine(conn);
            conn.write(PARTIAL);
            throw new IllegalStateException("handler failure on purpose (test)");
        })) {
            exchange(running.port(), "hello").assertReset(PARTIAL);
            ServerStats stats = running.awaitStats("the connection ended", s -> s.active() == 0 && s.accepted() == 1);
            assertEquals(Map.of(AbortKind.HANDLER_FAILED, 1L), stats.abortedByKind(), stats::toString);
            assertEquals(0, stats.graceful(), stats::toString);
        }
    }

    @Test
    void handlerThatThrowsCheckedExceptionGivesReset() throws Exception {
        try (var running = RunningServer.start(loopback().bind(), (conn, scope) -> {
            ServerIo.readLine(conn);
            conn.write(PARTIAL);
            throw new java.util.concurrent.TimeoutException("checked failure on purpose (test)");
        })) {
            exchange(running.port(), "hello").assertReset(PARTIAL);
            ServerStats stats = running.awaitStats("the connection ended", s -> s.active() == 0 && s.accepted() == 1);
            assertEquals(Map.of(AbortKind.HANDLER_FAILED, 1L), stats.abortedByKind(), stats::toString);
        }
    }

    /** An Error is a Throwable like any other: RST, and the server goes on serving. */
    @Test
    void handlerThatThrowsErrorGivesResetAndServerGoesOn() throws Exception {
        try (var running = RunningServer.start(loopback().bind(), (conn, scope) -> {
            String request = ServerIo.readLine(conn);
            conn.write(PARTIAL);
            if (request.equals("fail")) {
                throw new TestError("handler Error on purpose (test)");
            }
        })) {
            exchange(running.port(), "fail").assertReset(PARTIAL);
            Seen next = exchange(running.port(), "ok");
            assertTrue(next.isEof(), () -> "the server must go on after an Error; the next peer saw " + next);
            assertArrayEquals(PARTIAL, next.data());

            ServerStats stats = running.awaitStats("both connections ended", s -> s.active() == 0 && s.accepted() == 2);
            assertEquals(Map.of(AbortKind.HANDLER_FAILED, 1L), stats.abortedByKind(), stats::toString);
            assertEquals(1, stats.graceful(), stats::toString);
        }
    }

    /** A handler blocked in read past its time limit: RST, and the handler is woken. */
    @Test
    void handlerBlockedInReadPastTimeLimitGivesReset() throws Exception {
        var handlerSaw = new java.util.concurrent.CompletableFuture<Throwable>();
        // 1 s: the limit must not fire before the handler reaches its read (on a loaded machine
        // 300 ms could); and every way out of the handler completes handlerSaw, so a limit that
        // fired early fails the assertions below instead of hanging the test.
        try (var running = RunningServer.start(loopback().handlerTimeLimit(Duration.ofSeconds(1)).bind(), (conn, scope) -> {
            try {
                ServerIo.readLine(conn);
                conn.write(PARTIAL);
                conn.read(new byte[16]); // the peer sends nothing more
                handlerSaw.complete(null);
            } catch (Throwable t) {
                handlerSaw.complete(t);
                throw t;
            }
        })) {
            exchange(running.port(), "hello").assertReset(PARTIAL);
            Throwable woken = handlerSaw.get(Await.TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            assertTrue(woken instanceof ConnectionClosedException, () -> "the blocked read must wake with"
                    + " ConnectionClosedException, got " + woken);
            ServerStats stats = running.awaitStats("the connection ended", s -> s.active() == 0 && s.accepted() == 1);
            assertEquals(Map.of(AbortKind.TIME_LIMIT, 1L), stats.abortedByKind(), stats::toString);
        }
    }

    /**
     * A handler blocked outside tcpscope (an interruptible wait) past its time limit is
     * interrupted; even if it swallows the interrupt and returns normally, the peer gets RST.
     */
    @Test
    void handlerThatSwallowsTheTimeLimitInterruptStillGivesReset() throws Exception {
        var interrupted = new CountDownLatch(1);
        // 1 s, as above: the interrupt must come while the handler waits on its latch.
        try (var running = RunningServer.start(loopback().handlerTimeLimit(Duration.ofSeconds(1)).bind(), (conn, scope) -> {
            ServerIo.readLine(conn);
            conn.write(PARTIAL);
            try {
                new CountDownLatch(1).await(); // never counted down: only the interrupt ends it
            } catch (InterruptedException e) {
                interrupted.countDown();
                // swallowed: the handler "returns normally"
            }
        })) {
            exchange(running.port(), "hello").assertReset(PARTIAL);
            assertTrue(interrupted.await(Await.TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS),
                    "the handler's wait was not interrupted");
            ServerStats stats = running.awaitStats("the connection ended", s -> s.active() == 0 && s.accepted() == 1);
            assertEquals(Map.of(AbortKind.TIME_LIMIT, 1L), stats.abortedByKind(), stats::toString);
            assertEquals(0, stats.graceful(), stats::toString);
        }
    }

    /**
     * A handler blocked writing to a peer that does not read, past its time limit: RST. (The
     * write holds the connection's output lock while it waits; the abort must not wait for it.)
     */
    @Test
    void handlerBlockedInWritePastTimeLimitGivesReset() throws Exception {
        byte[] huge = new byte[64 << 20]; // far more than the socket buffers hold
        try (var running = RunningServer.start(loopback().handlerTimeLimit(Duration.ofMillis(300)).bind(), (conn, scope) -> {
            ServerIo.readLine(conn);
            conn.write(huge);
        })) {
            try (JdkPeer peer = JdkPeer.connect(running.port())) {
                peer.write("hello\n");
                // The peer reads nothing until the server has given up on the connection.
                running.awaitStats("the time limit ended the connection", s -> s.active() == 0 && s.accepted() == 1);
                Seen received = peer.readToEnd();
                assertTrue(received.isReset(), () -> "expected RST, the peer saw " + received);
                assertTrue(received.data().length < huge.length, received::toString);
            }
            ServerStats stats = running.stats();
            assertEquals(Map.of(AbortKind.TIME_LIMIT, 1L), stats.abortedByKind(), stats::toString);
        }
    }

    /** No bytes in either direction for the idle limit: RST. */
    @Test
    void idleConnectionGivesReset() throws Exception {
        try (var running = RunningServer.start(loopback().idleLimit(Duration.ofMillis(300)).bind(), (conn, scope) -> {
            ServerIo.readLine(conn);
            conn.write(PARTIAL);
            conn.read(new byte[16]); // idle from here on: the peer waits for more
        })) {
            exchange(running.port(), "hello").assertReset(PARTIAL);
            ServerStats stats = running.awaitStats("the connection ended", s -> s.active() == 0 && s.accepted() == 1);
            assertEquals(Map.of(AbortKind.IDLE, 1L), stats.abortedByKind(), stats::toString);
        }
    }

    /** Subtasks forked on the connection's scope, all successful: EOF after every byte. */
    @Test
    void handlerWithSuccessfulSubtasksGivesEof() throws Exception {
        try (var running = RunningServer.start(loopback().bind(), (conn, scope) -> {
            var request = scope.fork(() -> ServerIo.readLine(conn));
            var computed = scope.fork(() -> "computed");
            scope.join();
            ServerIo.write(conn, request.get() + "+" + computed.get());
        })) {
            Seen received = exchange(running.port(), "hello");
            assertTrue(received.isEof(), () -> "expected EOF, the peer saw " + received);
            assertEquals("hello+computed", received.text());
            ServerStats stats = running.awaitStats("the connection ended", s -> s.active() == 0 && s.accepted() == 1);
            assertEquals(1, stats.graceful(), stats::toString);
            assertEquals(0, stats.aborted(), stats::toString);
        }
    }

    /** A handler that forks its writer and returns without join(): the server joins, then EOF. */
    @Test
    void handlerThatReturnsWithoutJoiningIsJoinedForIt() throws Exception {
        byte[] response = Patterns.seeded(256 * 1024, 11);
        try (var running = RunningServer.start(loopback().bind(), (conn, scope) -> {
            ServerIo.readLine(conn);
            scope.fork(() -> {
                conn.write(response);
                return null;
            });
        })) {
            Seen received = exchange(running.port(), "hello");
            assertTrue(received.isEof(), () -> "expected EOF, the peer saw " + received);
            assertArrayEquals(response, received.data());
            ServerStats stats = running.awaitStats("the connection ended", s -> s.active() == 0 && s.accepted() == 1);
            assertEquals(1, stats.graceful(), stats::toString);
        }
    }

    /**
     * One failing subtask: RST at once, which also wakes the sibling subtask blocked reading the
     * connection (it would otherwise wait for ever: the peer sends nothing more).
     */
    @Test
    void failingSubtaskGivesResetAndWakesItsSiblings() throws Exception {
        var siblingSaw = new java.util.concurrent.CompletableFuture<Throwable>();
        var joinThrew = new java.util.concurrent.CompletableFuture<Throwable>();
        try (var running = RunningServer.start(loopback().bind(), (conn, scope) -> {
            ServerIo.readLine(conn);
            conn.write(PARTIAL);
            scope.fork(() -> {
                try {
                    return conn.read(new byte[16]);
                } catch (Throwable t) {
                    siblingSaw.complete(t);
                    throw t;
                }
            });
            scope.fork(() -> {
                throw new IllegalStateException("subtask failure on purpose (test)");
            });
            try {
                scope.join();
            } catch (Throwable t) {
                joinThrew.complete(t);
                throw t;
            }
            joinThrew.complete(null);
        })) {
            exchange(running.port(), "hello").assertReset(PARTIAL);
            Throwable sibling = siblingSaw.get();
            assertTrue(sibling instanceof ConnectionClosedException,
                    () -> "the sibling's read must wake with ConnectionClosedException, got " + sibling);
            Throwable join = joinThrew.get();
            assertTrue(join instanceof StructuredTaskScope.FailedException, () -> "join() threw " + join);
            ServerStats stats = running.awaitStats("the connection ended", s -> s.active() == 0 && s.accepted() == 1);
            assertEquals(Map.of(AbortKind.HANDLER_FAILED, 1L), stats.abortedByKind(), stats::toString);
        }
    }

    /** One connection's failure does not touch the others served at the same time. */
    @Test
    void oneFailureDoesNotEndOtherConnections() throws Exception {
        var bothStarted = new CountDownLatch(2);
        try (var running = RunningServer.start(loopback().bind(), (conn, scope) -> {
            String request = ServerIo.readLine(conn);
            bothStarted.countDown();
            bothStarted.await();
            ServerIo.write(conn, "answer to " + request);
            if (request.equals("fail")) {
                throw new IllegalStateException("handler failure on purpose (test)");
            }
        })) {
            try (JdkPeer good = JdkPeer.connect(running.port()); JdkPeer bad = JdkPeer.connect(running.port())) {
                good.write("ok\n");
                bad.write("fail\n");
                Seen badReceived = bad.readToEnd();
                Seen goodReceived = good.readToEnd();
                badReceived.assertReset("answer to fail".getBytes(StandardCharsets.UTF_8));
                assertTrue(goodReceived.isEof(), () -> "the good peer saw " + goodReceived);
                assertEquals("answer to ok", goodReceived.text());
            }
            ServerStats stats = running.awaitStats("both ended", s -> s.active() == 0 && s.accepted() == 2);
            assertEquals(1, stats.graceful(), stats::toString);
            assertEquals(Map.of(AbortKind.HANDLER_FAILED, 1L), stats.abortedByKind(), stats::toString);
        }
    }

    /**
     * A peer that resets while its connection still waits in the accept queue (held there by
     * maxConnections(1)) does not stop the accept loop: the next peer is served.
     */
    @Test
    void peerThatResetsBeforeAcceptDoesNotStopTheServer() throws Exception {
        try (var running = RunningServer.start(loopback().maxConnections(1).bind(), (conn, scope) -> {
            ServerIo.write(conn, "hello\n");
            ServerIo.write(conn, "answer to " + ServerIo.readLine(conn));
        })) {
            int port = running.port();
            try (JdkPeer first = JdkPeer.connect(port)) {
                first.readExactly(6);
                running.awaitStats("the first connection is served", s -> s.active() == 1);
                JdkPeer resetting = JdkPeer.connect(port);
                Await.until("the resetting peer waits in the accept queue",
                        () -> dev.tcpscope.server.ListenQueue.pending(port) == 1, running::stats);
                resetting.reset(); // RST while queued
                first.write("first\n");
                Seen received = first.readToEnd();
                assertTrue(received.isEof(), received::toString);
            }
            Seen next = exchange(port, "next");
            assertTrue(next.isEof(), () -> "the peer after the reset one saw " + next);
            assertEquals("hello\nanswer to next", next.text());
            ServerStats stats = running.awaitStats("all ended", s -> s.active() == 0 && s.graceful() == 2);
            // Linux may hand the reset connection to accept4 (its handler then fails reading:
            // handler-failed) or drop it from the queue; either way the server went on.
            assertEquals(stats.accepted(), stats.graceful() + stats.aborted(), stats::toString);
            assertTrue(stats.abortedByKind().keySet().stream().allMatch(AbortKind.HANDLER_FAILED::equals), stats::toString);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** An Error that is not a JVM failure, thrown on purpose. */
    static final class TestError extends Error {
        private static final long serialVersionUID = 1L;

        TestError(String message) {
            super(message);
        }
    }
}
