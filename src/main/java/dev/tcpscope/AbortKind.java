package dev.tcpscope;

/**
 * Why a {@link TcpServer} aborted a connection (RST): the keys of
 * {@link ServerStats#abortedByKind()}, and, by {@link #label()}, the {@code abortKind} field of
 * the JFR event {@code dev.tcpscope.ConnectionEnded}.
 *
 * <p>Two other outcomes are not aborts and have their own counts: a graceful ending
 * ({@link ServerStats#graceful()}; JFR {@code abortKind} "none") and a connection the handler
 * {@linkplain TcpScope#transfer transferred} to another scope ({@link ServerStats#transferred()};
 * that scope decides its ending, which JFR records with {@code abortKind} "transferred").
 * When two reasons meet (a time limit interrupts a handler, which then throws), the first one
 * the server saw is the kind.
 */
public enum AbortKind {

    /** The handler threw (an exception or an Error), or returned although its scope had failed. */
    HANDLER_FAILED("handler-failed"),

    /** The handler ran past {@link TcpServer.Builder#handlerTimeLimit}; it was interrupted. */
    TIME_LIMIT("time-limit"),

    /** No byte moved either way for {@link TcpServer.Builder#idleLimit}; the handler was interrupted. */
    IDLE("idle"),

    /** The server shut down and the drain period ended before the handler did (or before it began). */
    SHUTDOWN("shutdown"),

    /**
     * The handler returned (success declared), but the graceful ending could not deliver: bytes
     * not acknowledged by the finish deadline, a peer's reset, a poisoned connection.
     */
    UNDELIVERED("undelivered"),

    /**
     * The TLS handshake of a server with {@link TcpServer.Builder#tls} failed or did not complete
     * within {@link TcpServer.Builder#tlsHandshakeTimeout}: the handler never ran (the engine's
     * alert, if it had one, then RST).
     */
    TLS_HANDSHAKE("tls-handshake"),

    /** None of the above: the connection ended aborted without a reason the server recorded. */
    OTHER("other");

    private final String label;

    AbortKind(String label) {
        this.label = label;
    }

    /** {@return the kind's name in JFR events and logs: lower case, words joined by '-' ("time-limit")} */
    public String label() {
        return label;
    }
}
