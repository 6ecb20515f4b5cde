package dev.tcpscope.oracle;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpScope;
import dev.tcpscope.TcpServer;
import dev.tcpscope.UndeliveredException;
import dev.tcpscope.server.RunningServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The paths of a {@link TcpServer} handler, one server per scenario: the handler returns, throws
 * (an exception, an Error, a failed subtask), is still running when the server shuts down, runs
 * past its time limit or goes idle, or transfers its connection to a longer-lived scope (a
 * keep-alive pool) owned by the program's thread, which then succeeds.
 */
final class ServerPaths {

    /** A shutdown's drain period: the handler is blocked, so this only delays the abort a little. */
    private static final Duration SHORT_DRAIN = Duration.ofMillis(50);

    private ServerPaths() {}

    /** {@return the server of {@code s}, bound to an ephemeral loopback port, not serving yet} */
    static TcpServer bind(Scenario s) throws IOException {
        TcpServer.Builder b = TcpServer.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .finishTimeout(s.finishTimeout())
                .drainPeriod(s.path() == EndingPath.SERVER_SHUTDOWN ? SHORT_DRAIN : Duration.ofSeconds(2));
        if (s.tls()) {
            b.tls(OracleTls.serverContext(), OracleTls.only(s.tlsVersion())); // the handshake runs before the handler
        }
        if (s.path() == EndingPath.SERVER_TIME_LIMIT) {
            b.handlerTimeLimit(s.limit());
        } else if (s.path() == EndingPath.SERVER_IDLE_LIMIT) {
            b.idleLimit(s.limit());
        }
        return b.bind();
    }

    @SuppressWarnings("try") // the shutdown path closes the server inside the try: that is the shutdown under test
    static void run(ProgramContext cx) {
        EndingPath path = cx.scenario().path();
        ProgramRecord rec = cx.record();
        TcpServer server = cx.wiring().server();
        CountDownLatch handlerReady = new CountDownLatch(1); // blocked (shutdown) or returned (transfer)
        AtomicReference<Thread> transferred = new AtomicReference<>(); // the handler's thread, once it transferred
        var pool = path == EndingPath.SERVER_TRANSFER ? TcpScope.open().finishTimeout(cx.scenario().finishTimeout()) : null;
        try (RunningServer running = RunningServer.start(server,
                (conn, scope) -> handle(cx, conn, scope, pool, handlerReady, transferred))) {
            if (path == EndingPath.SERVER_SHUTDOWN) {
                if (handlerReady.await(ProgramContext.EVENT_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    running.close(); // shutdown: the drain period passes, the blocked handler is aborted
                }
            } else if (pool != null) {
                endPool(cx, pool, handlerReady, transferred);
            }
            running.awaitStats("the connection ended", st -> st.accepted() == 1 && st.active() == 0);
        } catch (Throwable t) {
            rec.harnessProblem("the server did not end its connection: " + t);
        } finally {
            if (pool != null && !pool.endings().isEmpty()) {
                rec.scopeEndings(pool.endings());
            }
            rec.serverStats(server.stats());
        }
    }

    /** The program's thread, owner of the pool: once the handler has transferred and returned, succeeds. */
    private static void endPool(ProgramContext cx, TcpScope<Object, Void> pool, CountDownLatch handlerReturned,
                                AtomicReference<Thread> transferred) throws Exception {
        try (pool) {
            boolean returned = handlerReturned.await(ProgramIo.GUARD.toMillis(), TimeUnit.MILLISECONDS);
            Thread handler = transferred.get();
            if (!returned || handler == null) {
                return; // the handler failed first: nothing was transferred
            }
            // The server runs the handler in a thread of its own and ends its part of the
            // connection there after the handler returns: once that thread has ended, whatever the
            // server does to a transferred connection (known hole 4: it resets it) has happened.
            if (!handler.join(ProgramIo.GUARD)) {
                cx.record().harnessProblem("the server's handler thread did not end after the handler returned");
            }
            pool.join();
            cx.record().declared();
            ScopePaths.declareSuccess(pool);
        } catch (UndeliveredException e) {
            cx.record().undelivered(e);
        }
    }

    private static void handle(ProgramContext cx, TcpConnection conn, TcpScope<Object, Void> scope,
                               TcpScope<Object, Void> pool, CountDownLatch handlerReady, AtomicReference<Thread> transferred)
            throws Exception {
        ProgramRecord rec = cx.record();
        cx.got(conn);
        try {
            switch (cx.scenario().path()) {
                case SERVER_RETURN -> {
                    cx.exchangeIn(scope, conn);
                    scope.join();
                    cx.beforeEnding(conn);
                    rec.declared(); // returning declares success
                }
                case SERVER_THROW -> {
                    cx.exchangeIn(scope, conn);
                    scope.join();
                    throw new PlannedFailure("the handler throws");
                }
                case SERVER_ERROR -> {
                    cx.exchangeIn(scope, conn);
                    scope.join();
                    throw new PlannedFailure.AsError("the handler throws an Error");
                }
                case SERVER_SUBTASK_FAILS -> {
                    if (cx.scenario().readerWriter()) {
                        scope.fork(() -> cx.read(conn));
                    }
                    scope.fork(() -> cx.writeThenFail(conn));
                    scope.join();
                }
                case SERVER_SHUTDOWN, SERVER_TIME_LIMIT, SERVER_IDLE_LIMIT -> writeThenBlock(cx, conn, scope, handlerReady);
                case SERVER_TRANSFER -> {
                    cx.exchangeIn(scope, conn);
                    scope.join();
                    cx.beforeEnding(conn);
                    scope.transfer(conn, pool);
                    transferred.set(Thread.currentThread());
                }
                default -> throw new IllegalArgumentException("not a server path: " + cx.scenario().path());
            }
        } catch (Throwable t) {
            rec.failed(t);
            throw t;
        } finally {
            handlerReady.countDown();
        }
    }

    private static void writeThenBlock(ProgramContext cx, TcpConnection conn, TcpScope<Object, Void> scope,
                                       CountDownLatch blocked) throws Exception {
        if (cx.scenario().readerWriter()) {
            scope.fork(() -> cx.write(conn));
            scope.fork(() -> {
                ProgramIo.block(conn);
                return null;
            });
            blocked.countDown();
            scope.join();
        } else {
            cx.write(conn);
            blocked.countDown();
            ProgramIo.block(conn);
        }
    }
}
