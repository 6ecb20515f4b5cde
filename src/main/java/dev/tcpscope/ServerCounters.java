package dev.tcpscope;

import dev.tcpscope.internal.jfr.ConnectionAcceptedEvent;
import dev.tcpscope.internal.jfr.ConnectionEndedEvent;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counters of a {@link TcpServer} ({@link ServerStats} is their snapshot) and its JFR
 * events: what the accept loop and the handlers report, in one place.
 */
final class ServerCounters {

    /** JFR's abortKind of a connection a handler transferred to another scope (not an abort). */
    static final String TRANSFERRED = "transferred";
    /** JFR's abortKind of a graceful ending. */
    private static final String NONE = "none";

    private final int localPort;
    private final AtomicInteger active = new AtomicInteger();
    private final LongAdder accepted = new LongAdder();
    private final LongAdder graceful = new LongAdder();
    private final LongAdder transferred = new LongAdder();
    private final Map<AbortKind, LongAdder> abortedByKind = new ConcurrentHashMap<>();
    private final LongAdder acceptAttempts = new LongAdder();
    private final LongAdder acceptErrors = new LongAdder();
    private final LongAdder backoffs = new LongAdder();

    ServerCounters(int localPort) {
        this.localPort = localPort;
    }

    void acceptAttempt() {
        acceptAttempts.increment();
    }

    void acceptError() {
        acceptErrors.increment();
    }

    void backoff() {
        backoffs.increment();
    }

    /** A connection was accepted and its handler is about to start. */
    void accepted(TcpConnection connection) {
        accepted.increment();
        active.incrementAndGet();
        ConnectionAcceptedEvent event = new ConnectionAcceptedEvent();
        if (event.shouldCommit()) {
            event.remoteAddress = String.valueOf(connection.remoteAddress());
            event.localPort = localPort;
            event.commit();
        }
    }

    /**
     * A handler is done with its connection, which ended (gracefully, or aborted of kind
     * {@code abortKind}) or was transferred to another scope ({@code transferred}; its ending
     * event follows when it ends). Wakes the drain period's wait.
     */
    void handlerEnded(TcpConnection connection, AbortKind abortKind, boolean transferred) {
        if (transferred) {
            this.transferred.increment();
        } else {
            ConnectionEnding ending = connection.ending().orElse(null);
            String kind = NONE;
            if (ending != null && ending.mode() == ConnectionEnding.Mode.GRACEFUL) {
                graceful.increment();
            } else {
                AbortKind k = abortKind != null ? abortKind : AbortKind.OTHER;
                abortedByKind.computeIfAbsent(k, unused -> new LongAdder()).increment();
                kind = k.label();
            }
            emitEnded(String.valueOf(connection.remoteAddress()), connection.transportName(), ending, kind);
        }
        active.decrementAndGet();
        synchronized (active) {
            active.notifyAll();
        }
    }

    /** A transferred connection ended, in the scope it was transferred to. */
    void transferredEnded(String remoteAddress, String transport, ConnectionEnding ending) {
        emitEnded(remoteAddress, transport, ending, TRANSFERRED);
    }

    /**
     * Waits until no handler runs or {@code deadlineNanos} (System.nanoTime) passes.
     *
     * @return whether the wait was interrupted
     */
    boolean awaitNoHandler(long deadlineNanos) {
        synchronized (active) {
            while (active.get() > 0) {
                long remaining = deadlineNanos - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                try {
                    java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(active, remaining);
                } catch (InterruptedException e) {
                    return true;
                }
            }
            return false;
        }
    }

    ServerStats snapshot() {
        Map<AbortKind, Long> aborted = new EnumMap<>(AbortKind.class);
        abortedByKind.forEach((kind, count) -> aborted.put(kind, count.sum()));
        return new ServerStats(active.get(), accepted.sum(), graceful.sum(), Collections.unmodifiableMap(aborted),
                transferred.sum(),
                acceptAttempts.sum(), acceptErrors.sum(), backoffs.sum());
    }

    private static void emitEnded(String remoteAddress, String transport, ConnectionEnding ending, String abortKind) {
        ConnectionEndedEvent event = new ConnectionEndedEvent();
        if (event.shouldCommit() && ending != null) {
            event.remoteAddress = remoteAddress;
            event.transport = transport;
            event.delivery = ending.result().delivery().name();
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
}
