package dev.tcpscope;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The options of a {@link TcpServer}, as {@link TcpServer.Builder} collects them. Each option is
 * checked where it is set; the defaults are the initial values. A server keeps a {@link #copy()}
 * of the builder's options, so later changes to the builder (to bind another server) do not
 * reach it; the server itself only reads them.
 */
final class ServerOptions {

    static final int DEFAULT_MAX_CONNECTIONS = 10_000;
    static final Duration DEFAULT_DRAIN_PERIOD = Duration.ofSeconds(5);
    static final Duration DEFAULT_TLS_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    private final InetSocketAddress address;
    private int backlog = TcpListener.DEFAULT_BACKLOG;
    private boolean v6Only;
    private boolean reusePort;
    private int receiveBufferSize;        // 0: the system's
    private int maxConnections = DEFAULT_MAX_CONNECTIONS;
    private Duration handlerTimeLimit;    // null: no limit
    private Duration idleLimit;           // null: no limit
    private Duration finishTimeout = TcpConnection.DEFAULT_FINISH_TIMEOUT;
    private Duration finishQuietPeriod = TcpConnection.DEFAULT_FINISH_QUIET_PERIOD;
    private Duration drainPeriod = DEFAULT_DRAIN_PERIOD;
    private SSLContext tls;                    // null: plain TCP
    private Consumer<SSLParameters> tlsParameters; // null: the context's defaults
    private Duration tlsHandshakeTimeout = DEFAULT_TLS_HANDSHAKE_TIMEOUT;

    ServerOptions(InetSocketAddress address) {
        this.address = Objects.requireNonNull(address, "address");
    }

    /** {@return an independent copy, for a server to keep} */
    ServerOptions copy() {
        ServerOptions c = new ServerOptions(address);
        c.backlog = backlog;
        c.v6Only = v6Only;
        c.reusePort = reusePort;
        c.receiveBufferSize = receiveBufferSize;
        c.maxConnections = maxConnections;
        c.handlerTimeLimit = handlerTimeLimit;
        c.idleLimit = idleLimit;
        c.finishTimeout = finishTimeout;
        c.finishQuietPeriod = finishQuietPeriod;
        c.drainPeriod = drainPeriod;
        c.tls = tls;
        c.tlsParameters = tlsParameters;
        c.tlsHandshakeTimeout = tlsHandshakeTimeout;
        return c;
    }

    // ---------------------------------------------------------------- setting (the builder)

    void backlog(int backlog) {
        this.backlog = atLeastOne(backlog, "backlog");
    }

    void v6Only(boolean v6Only) {
        this.v6Only = v6Only;
    }

    void reusePort(boolean reusePort) {
        this.reusePort = reusePort;
    }

    void receiveBufferSize(int bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("SO_RCVBUF out of range: " + bytes + " (bytes, 0 for the default)");
        }
        this.receiveBufferSize = bytes;
    }

    /** {@return the listener these options describe, bound and listening} */
    TcpListener bindListener() throws java.io.IOException {
        return TcpListener.builder(address).backlog(backlog).v6Only(v6Only).reusePort(reusePort)
                .receiveBufferSize(receiveBufferSize).bind();
    }

    void maxConnections(int maxConnections) {
        this.maxConnections = atLeastOne(maxConnections, "maxConnections");
    }

    void handlerTimeLimit(Duration limit) {
        this.handlerTimeLimit = positiveOrNull(limit, "handlerTimeLimit");
    }

    void idleLimit(Duration limit) {
        this.idleLimit = positiveOrNull(limit, "idleLimit");
    }

    void finishTimeout(Duration timeout) {
        this.finishTimeout = positive(timeout, "finishTimeout");
    }

    void finishQuietPeriod(Duration period) {
        this.finishQuietPeriod = positive(period, "finishQuietPeriod");
    }

    void drainPeriod(Duration period) {
        Objects.requireNonNull(period, "drainPeriod");
        if (period.isNegative()) {
            throw new IllegalArgumentException("drainPeriod must not be negative: " + period);
        }
        this.drainPeriod = period;
    }

    void tls(SSLContext context, Consumer<SSLParameters> parameters) {
        this.tls = Objects.requireNonNull(context, "context");
        this.tlsParameters = parameters;
    }

    void tlsHandshakeTimeout(Duration timeout) {
        this.tlsHandshakeTimeout = positive(timeout, "tlsHandshakeTimeout");
    }

    // ---------------------------------------------------------------- reading (the server)

    /** {@return where to listen} */
    InetSocketAddress address() { return address; }

    /** {@return the listen backlog} */
    int backlog() { return backlog; }

    /** {@return IPV6_V6ONLY for an IPv6 address} */
    boolean v6Only() { return v6Only; }

    /** {@return most connections holding a permit at once} */
    int maxConnections() { return maxConnections; }

    /** {@return longest a handler may run, or null} */
    Duration handlerTimeLimit() { return handlerTimeLimit; }

    /** {@return longest a connection may carry no bytes, or null} */
    Duration idleLimit() { return idleLimit; }

    /** {@return deadline of each graceful ending} */
    Duration finishTimeout() { return finishTimeout; }

    /** {@return how long a graceful ending waits for a quiet peer's FIN once all is acknowledged} */
    Duration finishQuietPeriod() { return finishQuietPeriod; }

    /** {@return how long running handlers may go on after shutdown begins} */
    Duration drainPeriod() { return drainPeriod; }

    /** {@return the TLS context, or null for plain TCP} */
    SSLContext tls() { return tls; }

    /** {@return what changes each TLS engine's parameters, or null} */
    Consumer<SSLParameters> tlsParameters() { return tlsParameters; }

    /** {@return how long a TLS handshake may take before the connection is reset} */
    Duration tlsHandshakeTimeout() { return tlsHandshakeTimeout; }

    private static int atLeastOne(int value, String name) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be at least 1: " + value);
        }
        return value;
    }

    private static Duration positive(Duration d, String name) {
        return Objects.requireNonNull(positiveOrNull(d, name), name);
    }

    private static Duration positiveOrNull(Duration d, String name) {
        if (d != null && (d.isNegative() || d.isZero())) {
            throw new IllegalArgumentException(name + " must be positive, or null for none: " + d);
        }
        return d;
    }
}
