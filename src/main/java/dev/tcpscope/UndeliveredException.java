package dev.tcpscope;

import java.util.Map;

/**
 * A {@link TcpScope}'s work succeeded, but not every byte of it reached a peer: at least one
 * connection's graceful ending was not acknowledged by its deadline (or the peer reset), so that
 * connection was aborted and its peer received RST. Thrown by {@link TcpScope#close()} and
 * {@link TcpScope#call}: the exchange did not complete, whatever the work returned.
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
