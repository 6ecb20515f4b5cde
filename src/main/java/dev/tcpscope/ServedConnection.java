package dev.tcpscope;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One connection being served by a {@link TcpServer}: its handler thread and scope, and the
 * limits that end it with RST — the handler time limit, the idle limit (no bytes in either
 * direction) and the end of the shutdown drain period — like nginx's
 * {@code reset_timedout_connection}.
 */
final class ServedConnection {

    private final TcpConnection connection;
    private final Thread handlerThread;
    private volatile TcpScope<?, ?> scope;
    private volatile String abortKind;
    private ScheduledFuture<?> timeLimit;   // handler thread only
    private volatile ScheduledFuture<?> idleCheck; // written by the timer, cancelled by the handler thread
    private long lastBytes = -1;             // timer only
    private long lastActivityNanos;          // timer only

    ServedConnection(TcpConnection connection, Thread handlerThread) {
        this.connection = connection;
        this.handlerThread = handlerThread;
    }

    TcpConnection connection() {
        return connection;
    }

    void attach(TcpScope<?, ?> scope) {
        this.scope = scope;
    }

    /** {@return why the server ended it, or null if the server did not intervene} */
    String abortKind() {
        return abortKind;
    }

    /** Arms the time and idle limits; either may be null (no limit). */
    void armLimits(ScheduledExecutorService timer, java.time.Duration handlerTimeLimit, java.time.Duration idleLimit) {
        if (handlerTimeLimit != null) {
            timeLimit = timer.schedule(() -> expire("time-limit", "handler time limit " + handlerTimeLimit + " exceeded"),
                    handlerTimeLimit.toNanos(), TimeUnit.NANOSECONDS);
        }
        if (idleLimit != null) {
            lastActivityNanos = System.nanoTime();
            scheduleIdleCheck(timer, idleLimit);
        }
    }

    private void scheduleIdleCheck(ScheduledExecutorService timer, java.time.Duration idleLimit) {
        long half = Math.max(1, idleLimit.toNanos() / 2);
        idleCheck = timer.schedule(() -> {
            long bytes = connection.bytesRead() + connection.bytesWritten();
            long now = System.nanoTime();
            if (bytes != lastBytes) {
                lastBytes = bytes;
                lastActivityNanos = now;
            }
            if (now - lastActivityNanos >= idleLimit.toNanos()) {
                expire("idle", "idle for " + idleLimit + " (no bytes in either direction)");
            } else if (connection.isOpen()) {
                scheduleIdleCheck(timer, idleLimit);
            }
        }, half, TimeUnit.NANOSECONDS);
    }

    void disarmLimits() {
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
     * the connection wakes at once, and interruptible calls elsewhere are interrupted.
     */
    void expire(String kind, String reason) {
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
        connection.abort(reason, cause);
        handlerThread.interrupt();
    }
}
