package dev.tcpscope.server;

import dev.tcpscope.ServerStats;
import dev.tcpscope.TcpServer;
import dev.tcpscope.testing.Await;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * A {@link TcpServer} serving on a thread of its own, so a test can act as its peers. Closing it
 * shuts the server down, waits for {@code serve()} to return and rethrows whatever serve threw.
 */
public final class RunningServer implements AutoCloseable {

    /**
     * Bound of the waits for the server: longer than {@link Await#TIMEOUT}, since thousands of
     * connections take a while to be accepted or to end on two carriers.
     */
    public static final Duration GUARD = Duration.ofSeconds(60);

    private final TcpServer server;
    private final Thread thread;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicBoolean interruptedOnReturn = new AtomicBoolean();

    private RunningServer(TcpServer server, TcpServer.Handler handler) {
        this.server = server;
        this.thread = Thread.ofPlatform().daemon().name("serve-" + server.localAddress().getPort()).unstarted(() -> {
            try {
                server.serve(handler);
            } catch (Throwable t) {
                failure.set(t);
            } finally {
                interruptedOnReturn.set(Thread.currentThread().isInterrupted());
            }
        });
    }

    /** Starts serving {@code server} with {@code handler} on a new platform thread. */
    public static RunningServer start(TcpServer server, TcpServer.Handler handler) {
        RunningServer running = new RunningServer(server, handler);
        running.thread.start();
        return running;
    }

    public TcpServer server() {
        return server;
    }

    public int port() {
        return server.localAddress().getPort();
    }

    public ServerStats stats() {
        return server.stats();
    }

    /** The thread in {@code serve()}. */
    public Thread servingThread() {
        return thread;
    }

    /** {@return whether the serving thread's interrupt status was set when serve() returned} */
    public boolean interruptedOnReturn() {
        return interruptedOnReturn.get();
    }

    /** Waits (bounded) until the server's counters satisfy {@code condition}. */
    public ServerStats awaitStats(String what, Predicate<ServerStats> condition) {
        Await.until(() -> "timed out after " + GUARD.toSeconds() + " s waiting until " + what + "; stats "
                + server.stats(), GUARD, () -> condition.test(server.stats()));
        return server.stats();
    }

    /** Waits (bounded by a guard) for serve() to return, and rethrows what it threw. */
    public void awaitReturn() throws InterruptedException {
        awaitReturn(GUARD);
    }

    /** Waits (bounded by {@code guard}) for serve() to return, and rethrows what it threw. */
    public void awaitReturn(Duration guard) throws InterruptedException {
        if (!thread.join(guard)) {
            throw new AssertionError("serve() did not return within the " + guard + " guard; stats " + server.stats());
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
    }

    @Override
    public void close() {
        server.shutdown();
        try {
            awaitReturn();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for serve() to return", e);
        }
    }
}
