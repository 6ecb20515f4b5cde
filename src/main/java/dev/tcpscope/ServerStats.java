package dev.tcpscope;

import java.util.Map;

/**
 * A snapshot of a {@link TcpServer}'s counters.
 *
 * @param active            connections whose handler is running now
 * @param accepted          connections accepted since the server started
 * @param graceful          connections that ended gracefully (FIN after everything was acknowledged)
 * @param abortedByKind     aborted connections (RST) by kind: {@code handler-failed},
 *                          {@code time-limit}, {@code idle}, {@code shutdown}, {@code undelivered},
 *                          {@code tls-handshake} (a TLS handshake that failed or timed out: the handler never ran),
 *                          {@code other}
 * @param transferred       connections whose handler {@linkplain TcpScope#transfer transferred} them
 *                          to another scope, still open when the handler returned: that scope ends
 *                          them, and they are counted neither as graceful nor as aborted; each
 *                          keeps its {@code maxConnections} permit until it ends
 * @param acceptAttempts    accepts of the accept loop that returned, with a connection or an error
 *                          (an accept4 that finds no connection, EAGAIN, waits for readiness inside
 *                          one accept and is not counted)
 * @param acceptErrors      accept4 failures (EMFILE, ENFILE, ECONNABORTED, ...)
 * @param backoffs          pauses of the accept loop after an error, e.g. out of descriptors
 */
public record ServerStats(int active, long accepted, long graceful, Map<String, Long> abortedByKind,
                          long transferred, long acceptAttempts, long acceptErrors, long backoffs) {

    /** {@return all aborted connections, whatever the kind} */
    public long aborted() {
        return abortedByKind.values().stream().mapToLong(Long::longValue).sum();
    }
}
