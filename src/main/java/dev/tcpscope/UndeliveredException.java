package dev.tcpscope;

import java.util.Map;

/**
 * The program declared a {@link TcpScope}'s success, but not every connection the scope was to
 * end gracefully could be: at least one ended aborted, and its peer received RST — its bytes
 * were not acknowledged by the finish deadline, its peer reset, a failed write had poisoned it,
 * or a subtask that did not succeed had written to it. Thrown by {@link TcpScope#finish()} (and
 * so by {@link TcpScope#call}, and counted as {@code undelivered} by a {@link TcpServer}): the
 * exchange did not complete, whatever the work returned. The scope never aborts a connection
 * silently after success was declared. The message names each such connection and why;
 * {@link #endings()} has them all.
 */
public class UndeliveredException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient Map<TcpConnection, ConnectionEnding> endings;

    /**
     * Creates the exception.
     *
     * @param message  which connections were not delivered
     * @param endings  every connection of the scope and how it ended
     */
    public UndeliveredException(String message, Map<TcpConnection, ConnectionEnding> endings) {
        super(message);
        this.endings = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(endings));
    }

    /** {@return every connection of the scope and how it ended, delivered or not} */
    public Map<TcpConnection, ConnectionEnding> endings() {
        return endings;
    }
}
