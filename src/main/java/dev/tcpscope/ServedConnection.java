package dev.tcpscope;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One connection being served by a {@link TcpServer}, in its handler's thread: the scope the
 * handler runs in, how the connection ends by the handler's outcome, and the limits that end it
 * with RST — the handler time limit, the idle limit (no bytes in either direction) and the end
 * of the shutdown drain period — like nginx's {@code reset_timedout_connection}.
 *
 * <p>The handler returns: its scope is joined (if the handler did not) and
 * {@linkplain TcpScope#finish() finished}. It throws: the scope is aborted. A connection the
 * handler {@linkplain TcpScope#transfer transferred} to another scope is that scope's to end:
 * neither the limits nor the shutdown touch it any more, and its permit is released when it
 * ends.
 */
final class ServedConnection {

    private static final System.Logger LOG = System.getLogger(TcpServer.class.getName());

    private final TcpConnection connection;
    private final Thread handlerThread;
    private volatile TcpScope<?, ?> scope;
    private volatile AbortKind abortKind;
    private ScheduledFuture<?> timeLimit;   // handler thread only
    private volatile ScheduledFuture<?> idleCheck; // written by the timer, cancelled by the handler thread
    private long lastBytes = -1;             // timer only
    private long lastActivityNanos;          // timer only

    ServedConnection(TcpConnection connection, Thread handlerThread) {
        this.connection = connection;
        this.handlerThread = handlerThread;
    }

    /**
     * Serves the connection with {@code handler} in the calling thread, then reports how it
     * ended to {@code counters} and gives its permit back through {@code releasePermit} (at once,
     * or when a transferred connection ends).
     *
     * @param tooLate the shutdown's drain period was over before the handler started
     */
    void serve(TcpServer.Handler handler, ServerOptions options, ScheduledExecutorService timer, boolean tooLate,
               ServerCounters counters, Runnable releasePermit) {
        AbortKind failureKind = null;
        boolean transferred = false;
        try {
            if (tooLate) {
                expire(AbortKind.SHUTDOWN, "server shut down before the handler started");
            }
            connection.finishQuietPeriod(options.finishQuietPeriod());
            armLimits(timer, options.handlerTimeLimit(), options.idleLimit());
            if (options.tls() != null && !handshake(options.tlsHandshakeTimeout())) {
                failureKind = AbortKind.TLS_HANDSHAKE;
                return; // the finally below aborts the connection (already aborted) and counts it
            }
            try (TcpScope<Object, Void> s = TcpScope.openForHandler()) {
                s.finishTimeout(options.finishTimeout());
                scope = s;
                s.adopt(connection);
                failureKind = handle(s, handler);
                // Transferred: another scope owns it now, and has not ended it yet (one that has
                // is counted by its ending, like any other).
                transferred = !s.owns(connection) && connection.owner.get() != null && connection.isOpen();
            } catch (RuntimeException e) {
                failureKind = AbortKind.HANDLER_FAILED; // close(): forked without joining, or a structure violation
                LOG.log(System.Logger.Level.WARNING, "ending the connection of " + connection.remoteAddress()
                        + " failed", e);
            }
        } finally {
            disarmLimits();
            if (transferred) {
                counters.handlerEnded(connection, null, true);
                releaseWhenEnded(counters, releasePermit);
            } else {
                connection.abort("handler ended without an ending", null); // no-op if it ended
                counters.handlerEnded(connection, abortKind != null ? abortKind : failureKind, false);
                releasePermit.run();
            }
            Thread.interrupted(); // a late limit may have interrupted us after the work ended
        }
    }

    /**
     * Completes the TLS handshake before the handler runs, within {@code timeout} (and the limits
     * armed already). {@return whether it completed} If not, the connection is aborted: the
     * engine's alert, if it has one, then RST.
     */
    private boolean handshake(Duration timeout) {
        try {
            connection.tlsHandshake(dev.tcpscope.internal.poll.Deadline.after(timeout));
            return true;
        } catch (IOException | RuntimeException e) {
            if (abortKind == null) {
                LOG.log(System.Logger.Level.INFO, "TLS handshake with " + connection.remoteAddress()
                        + " failed; connection reset: " + e);
            }
            connection.abort("TLS handshake failed: " + e.getMessage(), e);
            return false;
        }
    }

    /** Runs the handler; {@return null if the scope finished with every byte delivered, else the abort kind} */
    private AbortKind handle(TcpScope<Object, Void> s, TcpServer.Handler handler) {
        try {
            handler.handle(connection, s);
            s.joinIfNotJoined();
        } catch (Throwable t) {
            s.abort(t);
            if (abortKind == null) {
                LOG.log(System.Logger.Level.WARNING, "handler failed for " + connection.remoteAddress()
                        + "; connection reset", t);
            }
            return AbortKind.HANDLER_FAILED;
        }
        try {
            s.finish(); // returning normally declares success
            return null;
        } catch (UndeliveredException e) {
            LOG.log(System.Logger.Level.INFO, e.getMessage());
            return AbortKind.UNDELIVERED;
        } catch (IllegalStateException e) {
            // The handler returned, but its scope had failed: a limit or the shutdown aborted it
            // (abortKind says which), or the handler swallowed the failure of its own join().
            if (abortKind == null) {
                LOG.log(System.Logger.Level.WARNING, "handler for " + connection.remoteAddress()
                        + " returned, but its scope had failed; connection reset", e);
            }
            return AbortKind.HANDLER_FAILED;
        }
    }

    /**
     * The connection went to another scope: its permit is held until it ends, so that the
     * server's open sockets never exceed maxConnections unnoticed. The observer must not refer
     * to the connection, or the connection's Cleaner backstop could never run.
     */
    private void releaseWhenEnded(ServerCounters counters, Runnable releasePermit) {
        String remote = String.valueOf(connection.remoteAddress());
        String transport = connection.transportName();
        try {
            connection.onEnded(ending -> {
                counters.transferredEnded(remote, transport, ending);
                releasePermit.run();
            });
        } catch (IllegalStateException e) {
            releasePermit.run(); // already observed (not by the server): do not hold the permit forever
        }
    }

    /** Arms the time and idle limits; either may be null (no limit). */
    private void armLimits(ScheduledExecutorService timer, Duration handlerTimeLimit, Duration idleLimit) {
        if (handlerTimeLimit != null) {
            timeLimit = timer.schedule(() -> expire(AbortKind.TIME_LIMIT, "handler time limit " + handlerTimeLimit + " exceeded"),
                    handlerTimeLimit.toNanos(), TimeUnit.NANOSECONDS);
        }
        if (idleLimit != null) {
            lastActivityNanos = System.nanoTime();
            scheduleIdleCheck(timer, idleLimit);
        }
    }

    private void scheduleIdleCheck(ScheduledExecutorService timer, Duration idleLimit) {
        long half = Math.max(1, idleLimit.toNanos() / 2);
        idleCheck = timer.schedule(() -> {
            long bytes = connection.bytesRead() + connection.bytesWritten();
            long now = System.nanoTime();
            if (bytes != lastBytes) {
                lastBytes = bytes;
                lastActivityNanos = now;
            }
            if (now - lastActivityNanos >= idleLimit.toNanos()) {
                expire(AbortKind.IDLE, "idle for " + idleLimit + " (no bytes in either direction)");
            } else if (connection.isOpen()) {
                scheduleIdleCheck(timer, idleLimit);
            }
        }, half, TimeUnit.NANOSECONDS);
    }

    private void disarmLimits() {
        if (timeLimit != null) {
            timeLimit.cancel(false);
        }
        ScheduledFuture<?> idle = idleCheck;
        if (idle != null) {
            idle.cancel(false);
        }
    }

    /**
     * Ends the connection with RST and interrupts its handler: its scope fails, blocked I/O on
     * the connection wakes at once, and interruptible calls elsewhere are interrupted. A
     * connection the handler transferred to another scope is left to that scope.
     */
    void expire(AbortKind kind, String reason) {
        if (!connection.isOpen()) {
            return;
        }
        if (abortKind == null) {
            abortKind = kind;
        }
        TimeoutException cause = new TimeoutException(reason);
        TcpScope<?, ?> s = scope;
        if (s != null) {
            s.abort(cause);
        }
        if (s == null || s.owns(connection)) {
            connection.abort(reason, cause);
        }
        handlerThread.interrupt();
    }
}
