package dev.tcpscope;

import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The serving state of one {@link TcpServer} and what changes it: {@code serve()} at most once
 * (the serving thread, the {@code SERVING} binding its handlers inherit), the permits and the
 * accept loop, each handler's record while it runs, the shutdown begun from any thread, the drain
 * period and the abort of the handlers still running after it.
 *
 * <p>{@code TcpServer} keeps the handlers' {@code StructuredTaskScope} (it opens it, forks each
 * handler, joins it), so that this class uses no preview API and carries no preview marking;
 * {@code TcpServer} is marked as before (README, "Java versions").
 */
final class ServerLifecycle {

    /** Bound to the server by serve(): in its serving thread, its handler threads and, through their scopes, their subtasks. */
    private static final ScopedValue<ServerLifecycle> SERVING = ScopedValue.newInstance();

    private final ServerOptions options;
    private final TcpListener listener;
    private final InetSocketAddress localAddress;
    private final Semaphore permits;
    private final ScheduledThreadPoolExecutor timer;
    private final ServerCounters counters;
    private final Set<ServedConnection> served = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean serving = new AtomicBoolean();
    private final AtomicBoolean shuttingDown = new AtomicBoolean();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private volatile Thread servingThread;
    private volatile boolean drainOver; // set before drain() aborts the handlers in `served`

    ServerLifecycle(ServerOptions options, TcpListener listener, InetSocketAddress localAddress) {
        this.options = options;
        this.listener = listener;
        this.localAddress = localAddress;
        this.permits = new Semaphore(options.maxConnections());
        this.counters = new ServerCounters(localAddress.getPort());
        this.timer = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().daemon()
                .name("tcpscope-server-timer-" + localAddress.getPort()).unstarted(r));
        this.timer.setRemoveOnCancelPolicy(true);
    }

    /** {@return whether shutdown has begun} */
    boolean isShuttingDown() {
        return shuttingDown.get();
    }

    /**
     * The body of {@link TcpServer#serve}, once the handler is checked: runs {@code acceptAndDrain}
     * (the server's accept loop, drain and join of its handlers' scope) on the calling thread
     * with {@code SERVING} bound; {@code acceptAndDrain} returns whether the thread was interrupted.
     */
    void serve(BooleanSupplier acceptAndDrain) {
        if (!serving.compareAndSet(false, true)) {
            throw new IllegalStateException("serve: this server is already serving or has served");
        }
        if (shuttingDown.get()) {
            terminated.countDown();
            throw new IllegalStateException("serve: the server was shut down");
        }
        servingThread = Thread.currentThread();
        boolean interrupted = false;
        try {
            // Bound once around the handlers' scope, which every handler thread inherits it from:
            // not per handler, which cost each idle connection four stack frames and a binding.
            interrupted = ScopedValue.where(SERVING, this).call(acceptAndDrain::getAsBoolean);
        } finally {
            timer.shutdownNow();
            terminated.countDown();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** {@return the accept loop of this server: it takes a permit for each connection, until shutdown} */
    AcceptLoop acceptLoop() {
        return new AcceptLoop(listener, permits, counters, shuttingDown::get);
    }

    /** Ends an accepted connection whose handler could not be started, and gives its permit back. */
    void handlerNotStarted(TcpConnection connection, RuntimeException e) {
        connection.abort("could not start a handler", e);
        counters.handlerEnded(connection, AbortKind.OTHER, false);
        permits.release();
    }

    /** Runs {@code handler} for {@code connection}, in the handler's thread (a subtask of the server's scope). */
    void serveConnection(TcpConnection connection, TcpServer.Handler handler) {
        ServedConnection record = new ServedConnection(connection, Thread.currentThread());
        served.add(record);
        try {
            // Registered in `served` first, then checked: either drain() sees this record or
            // this handler sees drainOver. A handler that starts only after the drain period
            // ended (its carrier was busy) would otherwise run unbounded and serve() never return.
            boolean tooLate = drainOver || (shuttingDown.get() && options.drainPeriod().isZero());
            record.serve(handler, options, timer, tooLate, counters, permits::release);
        } finally {
            served.remove(record);
        }
    }

    /** Gives running handlers the drain period, then aborts the rest; returns whether interrupted. */
    boolean drain() {
        // Interrupted again: the drain period is cut short.
        boolean interrupted = counters.awaitNoHandler(System.nanoTime() + options.drainPeriod().toNanos());
        drainOver = true;
        for (ServedConnection record : served) {
            record.expire(AbortKind.SHUTDOWN, "server shut down (drain period " + options.drainPeriod() + " over)");
        }
        return interrupted;
    }

    void beginShutdown() {
        if (shuttingDown.compareAndSet(false, true)) {
            listener.close();
            // Wake an accept loop waiting for a permit (every one in use); it checks shuttingDown
            // after acquiring. One permit is enough, and only when none is available: releasing
            // a large number overflowed the semaphore (Error) for a large maxConnections.
            if (permits.availablePermits() == 0) {
                permits.release();
            }
        }
    }

    /** The body of {@link TcpServer#shutdown()}. */
    void shutdown() {
        beginShutdown();
        Thread thread = servingThread;
        if (thread != null) {
            LockSupport.unpark(thread); // out of an accept back-off
        }
        // The serving thread has SERVING bound too (serve() binds it for its handlers): it is
        // told apart first, and goes on as it always did.
        boolean servingThreadItself = Thread.currentThread() == thread;
        if (!servingThreadItself && SERVING.isBound() && SERVING.get() == this) {
            return;
        }
        if (!serving.get() || servingThreadItself) {
            timer.shutdownNow();
            return;
        }
        boolean interrupted = false;
        while (true) {
            try {
                terminated.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@return a snapshot of the server's counters} */
    ServerStats stats() {
        return counters.snapshot();
    }
}
