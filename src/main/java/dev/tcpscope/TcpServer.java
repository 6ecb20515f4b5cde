package dev.tcpscope;

import dev.tcpscope.internal.jfr.ConnectionAcceptedEvent;
import dev.tcpscope.internal.jfr.ConnectionEndedEvent;
import dev.tcpscope.internal.os.Errno;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.StructuredTaskScope.Joiner;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * A virtual-thread TCP server where each connection's ending follows its handler: the handler
 * returns, and the peer receives every byte and FIN; the handler throws (any {@code Throwable}),
 * exceeds its time limit, goes idle, or is still running when the shutdown drain period ends, and
 * the peer receives RST.
 *
 * {@snippet :
 * try (var server = TcpServer.bind(new InetSocketAddress(8080))) {
 *     server.serve((conn, scope) -> handle(conn, scope));   // blocks until shutdown
 * }
 * }
 *
 * <p>Each accepted connection gets a virtual thread and its own {@link TcpScope}, which the
 * handler can use to fork subtasks. The handlers run as subtasks of one
 * {@link StructuredTaskScope} owned by the thread that called {@link #serve}, with a policy that
 * keeps one connection's failure from cancelling the others; no handler thread outlives
 * {@code serve()}. A handler's failure is logged once, at WARNING, through {@link System.Logger}
 * {@code dev.tcpscope.TcpServer}.
 *
 * <p><b>Limits.</b> At most {@code maxConnections} are served at once (default 10,000); beyond
 * that the server stops accepting until one ends, so new connections wait in the kernel's listen
 * backlog, and once that is full the kernel drops or refuses them. The handler time limit and the
 * idle limit (no bytes in either direction; detected within 1.5 times the limit) are off by
 * default; each ends the connection with RST and interrupts the handler.
 *
 * <p><b>Shutdown</b> ({@link #close()}, {@link #shutdown()}, or interrupting the thread in
 * {@code serve}): accepting stops at once; running handlers get the drain period (default 5 s)
 * to finish; then every remaining connection is aborted and its handler interrupted, and
 * {@code serve()} returns as soon as they have all ended. That last step is prompt for handlers
 * blocked in tcpscope I/O or in interruptible calls; a handler that ignores interrupts while
 * computing, or is blocked in uninterruptible code, delays it, and no server can prevent that in
 * Java.
 *
 * <p><b>Accept errors</b> do not stop the server: on EMFILE or ENFILE (out of descriptors) it
 * keeps the listener and backs off on a timer (10 ms, doubling up to 1 s) instead of spinning;
 * ECONNABORTED and other errors are counted and the loop goes on. {@link #stats()} shows the
 * counters, and JFR records {@code dev.tcpscope.ConnectionAccepted} and
 * {@code dev.tcpscope.ConnectionEnded} events.
 */
public final class TcpServer implements AutoCloseable {

    /** Serves one connection. */
    @FunctionalInterface
    public interface Handler {
        /**
         * Serves {@code connection}, which {@code scope} owns. Returning normally ends the
         * connection gracefully (after joining any forked subtasks); throwing aborts it.
         */
        void handle(TcpConnection connection, TcpScope<Object, Void> scope) throws Exception;
    }

    /** Options of a server; every one has a documented default. */
    public static final class Builder {
        private final InetSocketAddress address;
        private int backlog = TcpListener.DEFAULT_BACKLOG;
        private boolean v6Only;
        private int maxConnections = 10_000;
        private Duration handlerTimeLimit;
        private Duration idleLimit;
        private Duration finishTimeout = TcpConnection.DEFAULT_FINISH_TIMEOUT;
        private Duration drainPeriod = Duration.ofSeconds(5);

        private Builder(InetSocketAddress address) {
            this.address = Objects.requireNonNull(address, "address");
        }

        /** Listen backlog (default {@link TcpListener#DEFAULT_BACKLOG}). */
        public Builder backlog(int backlog) {
            if (backlog < 1) {
                throw new IllegalArgumentException("backlog must be at least 1: " + backlog);
            }
            this.backlog = backlog;
            return this;
        }

        /** IPV6_V6ONLY for an IPv6 bind address (default false: {@code [::]} also accepts IPv4). */
        public Builder v6Only(boolean v6Only) {
            this.v6Only = v6Only;
            return this;
        }

        /** Most connections served at once (default 10,000). */
        public Builder maxConnections(int maxConnections) {
            if (maxConnections < 1) {
                throw new IllegalArgumentException("maxConnections must be at least 1: " + maxConnections);
            }
            this.maxConnections = maxConnections;
            return this;
        }

        /** Longest a handler may run before its connection is reset (default: no limit). */
        public Builder handlerTimeLimit(Duration limit) {
            this.handlerTimeLimit = positiveOrNull(limit, "handlerTimeLimit");
            return this;
        }

        /** Longest a connection may carry no bytes either way before it is reset (default: no limit). */
        public Builder idleLimit(Duration limit) {
            this.idleLimit = positiveOrNull(limit, "idleLimit");
            return this;
        }

        /** Deadline of each graceful ending (default {@link TcpConnection#DEFAULT_FINISH_TIMEOUT}). */
        public Builder finishTimeout(Duration timeout) {
            this.finishTimeout = Objects.requireNonNull(positiveOrNull(timeout, "finishTimeout"), "finishTimeout");
            return this;
        }

        /** How long running handlers may go on after shutdown begins (default 5 s). */
        public Builder drainPeriod(Duration period) {
            Objects.requireNonNull(period, "drainPeriod");
            if (period.isNegative()) {
                throw new IllegalArgumentException("drainPeriod must not be negative: " + period);
            }
            this.drainPeriod = period;
            return this;
        }

        /**
         * Binds and listens; connections queue in the backlog until {@link TcpServer#serve} runs.
         * The server keeps the options as they are now: later changes to this builder (to bind
         * another server) do not reach it.
         */
        public TcpServer bind() throws IOException {
            Builder snapshot = copy();
            TcpListener listener = TcpListener.bind(address, backlog, v6Only);
            try {
                return new TcpServer(snapshot, listener);
            } catch (IOException | RuntimeException | Error e) {
                listener.close();
                throw e;
            }
        }

        private Builder copy() {
            Builder copy = new Builder(address);
            copy.backlog = backlog;
            copy.v6Only = v6Only;
            copy.maxConnections = maxConnections;
            copy.handlerTimeLimit = handlerTimeLimit;
            copy.idleLimit = idleLimit;
            copy.finishTimeout = finishTimeout;
            copy.drainPeriod = drainPeriod;
            return copy;
        }

        private static Duration positiveOrNull(Duration d, String name) {
            if (d != null && (d.isNegative() || d.isZero())) {
                throw new IllegalArgumentException(name + " must be positive, or null for none: " + d);
            }
            return d;
        }
    }

    private static final System.Logger LOG = System.getLogger(TcpServer.class.getName());
    /** Bound to the server in its handler threads and, through their scopes, their subtasks. */
    private static final ScopedValue<TcpServer> SERVING = ScopedValue.newInstance();
    private static final long FIRST_BACKOFF_NANOS = 10_000_000L;
    private static final long LONGEST_BACKOFF_NANOS = 1_000_000_000L;

    private final Builder options;
    private final TcpListener listener;
    private final InetSocketAddress localAddress;
    private final Semaphore permits;
    private final ScheduledThreadPoolExecutor timer;
    private final Set<ServedConnection> served = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean serving = new AtomicBoolean();
    private final AtomicBoolean shuttingDown = new AtomicBoolean();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private volatile Thread servingThread;
    private volatile boolean drainOver; // set before drain() aborts the handlers in `served`

    private final AtomicInteger active = new AtomicInteger();
    private final LongAdder accepted = new LongAdder();
    private final LongAdder graceful = new LongAdder();
    private final Map<String, LongAdder> abortedByKind = new ConcurrentHashMap<>();
    private final LongAdder acceptAttempts = new LongAdder();
    private final LongAdder acceptErrors = new LongAdder();
    private final LongAdder backoffs = new LongAdder();

    private TcpServer(Builder options, TcpListener listener) throws IOException {
        this.options = options;
        this.listener = listener;
        this.localAddress = listener.localAddress();
        this.permits = new Semaphore(options.maxConnections);
        this.timer = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().daemon()
                .name("tcpscope-server-timer-" + localAddress.getPort()).unstarted(r));
        this.timer.setRemoveOnCancelPolicy(true);
    }

    /** Binds to {@code address} with the default options; port 0 picks a free port. */
    public static TcpServer bind(InetSocketAddress address) throws IOException {
        return builder(address).bind();
    }

    /** {@return a builder for a server on {@code address}} */
    public static Builder builder(InetSocketAddress address) {
        return new Builder(address);
    }

    /** {@return the address the server listens on, with the real port after binding port 0} */
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    /** {@return whether shutdown has begun; handlers may ask, to stop early} */
    public boolean isShuttingDown() {
        return shuttingDown.get();
    }

    /**
     * Serves connections with {@code handler} on the calling thread until shutdown, then returns
     * once every handler has ended (see the class comment for the bounds). If the calling thread
     * is interrupted, that begins the shutdown; its interrupt status is set again on return.
     *
     * @throws IllegalStateException if the server is already serving, or was shut down
     */
    public void serve(Handler handler) {
        Objects.requireNonNull(handler, "handler");
        if (!serving.compareAndSet(false, true)) {
            throw new IllegalStateException("serve: this server is already serving or has served");
        }
        if (shuttingDown.get()) {
            terminated.countDown();
            throw new IllegalStateException("serve: the server was shut down");
        }
        servingThread = Thread.currentThread();
        boolean interrupted = false;
        try (var handlers = StructuredTaskScope.open(Joiner.awaitAll(),
                cf -> cf.withName("tcpscope-server-" + localAddress.getPort()))) {
            interrupted = acceptLoop(handlers, handler);
            beginShutdown();
            interrupted |= drain();
            while (true) {
                try {
                    handlers.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            timer.shutdownNow();
            terminated.countDown();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Accepts until shutdown; returns whether the serving thread was interrupted. */
    private boolean acceptLoop(StructuredTaskScope<Object, Void> handlers, Handler handler) {
        long backoff = FIRST_BACKOFF_NANOS;
        while (!shuttingDown.get()) {
            try {
                permits.acquire();
            } catch (InterruptedException e) {
                return true;
            }
            if (shuttingDown.get()) {
                return false;
            }
            TcpConnection connection;
            try {
                connection = listener.accept();
                acceptAttempts.increment();
                backoff = FIRST_BACKOFF_NANOS;
            } catch (ConnectionClosedException e) {
                permits.release();
                return false; // the listener was closed: shutdown
            } catch (InterruptedIOException e) {
                // tcpscope I/O keeps the interrupt status set; clear it, as the other ways out
                // of this loop do, or the drain period's wait would end at once.
                Thread.interrupted();
                permits.release();
                return true;
            } catch (IOException | RuntimeException e) {
                permits.release();
                acceptAttempts.increment();
                acceptErrors.increment();
                boolean exhausted = e instanceof SystemCallException s && Errno.isDescriptorExhaustion(s.errno());
                if (exhausted || !(e instanceof SystemCallException s2 && s2.errno() == Errno.ECONNABORTED)) {
                    // Out of descriptors (or an error we do not know): pause instead of spinning.
                    LOG.log(exhausted ? System.Logger.Level.WARNING : System.Logger.Level.ERROR,
                            "accept failed, backing off " + Duration.ofNanos(backoff) + ": " + e.getMessage());
                    backoffs.increment();
                    LockSupport.parkNanos(this, backoff);
                    if (Thread.interrupted()) {
                        return true;
                    }
                    backoff = Math.min(backoff * 2, LONGEST_BACKOFF_NANOS);
                }
                continue;
            }
            accepted.increment();
            active.incrementAndGet();
            emitAccepted(connection);
            try {
                handlers.fork(() -> ScopedValue.where(SERVING, this).run(() -> serveConnection(connection, handler)));
            } catch (RuntimeException e) {
                connection.abort("could not start a handler", e);
                endServing(null, connection, "other");
                throw e;
            }
        }
        return false;
    }

    private void serveConnection(TcpConnection connection, Handler handler) {
        ServedConnection record = new ServedConnection(connection, Thread.currentThread());
        served.add(record);
        String failureKind = null;
        try {
            // Registered in `served` first, then checked: either drain() sees this record or
            // this handler sees drainOver. A handler that starts only after the drain period
            // ended (its carrier was busy) would otherwise run unbounded and serve() never return.
            if (drainOver || (shuttingDown.get() && options.drainPeriod.isZero())) {
                record.expire("shutdown", "server shut down before the handler started");
            }
            record.armLimits(timer, options.handlerTimeLimit, options.idleLimit);
            try (TcpScope<Object, Void> scope = TcpScope.open()) {
                scope.finishTimeout(options.finishTimeout);
                record.attach(scope);
                scope.adopt(connection);
                try {
                    handler.handle(connection, scope);
                    if (!scope.joined()) {
                        scope.join();
                    }
                } catch (Throwable t) {
                    failureKind = "handler-failed";
                    scope.abort(t);
                    if (record.abortKind() == null) {
                        LOG.log(System.Logger.Level.WARNING,
                                "handler failed for " + connection.remoteAddress() + "; connection reset", t);
                    }
                }
            } catch (UndeliveredException e) {
                failureKind = "undelivered";
                LOG.log(System.Logger.Level.INFO, e.getMessage());
            } catch (RuntimeException e) {
                failureKind = "handler-failed";
                LOG.log(System.Logger.Level.WARNING, "ending the connection of " + connection.remoteAddress() + " failed", e);
            }
        } finally {
            record.disarmLimits();
            connection.abort("handler ended without an ending", null); // no-op if it ended
            served.remove(record);
            endServing(record, connection, record.abortKind() != null ? record.abortKind() : failureKind);
            Thread.interrupted(); // a late limit may have interrupted us after the work ended
        }
    }

    private void endServing(ServedConnection record, TcpConnection connection, String abortKind) {
        ConnectionEnding ending = connection.ending().orElse(null);
        String kind = "none";
        if (ending != null && ending.mode() == ConnectionEnding.Mode.GRACEFUL) {
            graceful.increment();
        } else {
            kind = abortKind != null ? abortKind : "other";
            abortedByKind.computeIfAbsent(kind, k -> new LongAdder()).increment();
        }
        emitEnded(connection, ending, kind);
        permits.release();
        active.decrementAndGet();
        synchronized (active) {
            active.notifyAll();
        }
    }

    /** Gives running handlers the drain period, then aborts the rest; returns whether interrupted. */
    private boolean drain() {
        boolean interrupted = false;
        long deadline = System.nanoTime() + options.drainPeriod.toNanos();
        synchronized (active) {
            while (active.get() > 0) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    break;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(active, remaining);
                } catch (InterruptedException e) {
                    interrupted = true;
                    break; // interrupted again: cut the drain period short
                }
            }
        }
        drainOver = true;
        for (ServedConnection record : served) {
            record.expire("shutdown", "server shut down (drain period " + options.drainPeriod + " over)");
        }
        return interrupted;
    }

    private void beginShutdown() {
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

    /**
     * Begins the shutdown and waits until {@link #serve} has returned: accepting stops at once,
     * handlers get the drain period, the rest are aborted. Safe to call from any thread, more
     * than once, and before {@code serve}. Called by a handler of this server (or a subtask it
     * forked), it only begins the shutdown and returns at once: {@code serve()} waits for that
     * handler, so waiting here would never end.
     */
    public void shutdown() {
        beginShutdown();
        Thread thread = servingThread;
        if (thread != null) {
            LockSupport.unpark(thread); // out of an accept back-off
        }
        if (SERVING.isBound() && SERVING.get() == this) {
            return;
        }
        if (!serving.get() || Thread.currentThread() == thread) {
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

    /** Same as {@link #shutdown()}. */
    @Override
    public void close() {
        shutdown();
    }

    /** {@return a snapshot of the server's counters} */
    public ServerStats stats() {
        Map<String, Long> aborted = new TreeMap<>();
        abortedByKind.forEach((kind, count) -> aborted.put(kind, count.sum()));
        return new ServerStats(active.get(), accepted.sum(), graceful.sum(), Map.copyOf(aborted),
                acceptAttempts.sum(), acceptErrors.sum(), backoffs.sum());
    }

    private void emitAccepted(TcpConnection connection) {
        ConnectionAcceptedEvent event = new ConnectionAcceptedEvent();
        if (event.shouldCommit()) {
            event.remoteAddress = String.valueOf(connection.remoteAddress());
            event.localPort = localAddress.getPort();
            event.commit();
        }
    }

    private static void emitEnded(TcpConnection connection, ConnectionEnding ending, String abortKind) {
        ConnectionEndedEvent event = new ConnectionEndedEvent();
        if (event.shouldCommit() && ending != null) {
            event.remoteAddress = String.valueOf(connection.remoteAddress());
            event.mode = ending.mode().name();
            event.reason = ending.reason();
            event.abortKind = abortKind;
            event.bytesRead = ending.bytesRead();
            event.bytesWritten = ending.bytesWritten();
            event.delivered = ending.result().delivered();
            event.unacknowledgedBytes = ending.result().unacknowledgedBytes();
            event.connectionNanos = ending.duration().toNanos();
            event.commit();
        }
    }

    @Override
    public String toString() {
        return "TcpServer[" + localAddress + (shuttingDown.get() ? ", shutting down" : "") + "]";
    }
}
