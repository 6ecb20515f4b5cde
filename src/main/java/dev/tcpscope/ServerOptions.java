package dev.tcpscope;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * The options of a {@link TcpServer}, as {@link TcpServer.Builder} collects them: an immutable
 * value, so that a server keeps the options it was bound with whatever happens to its builder.
 * Each option is checked where it is set; the defaults are in {@link #defaults}.
 *
 * @param address          where to listen
 * @param backlog          listen backlog
 * @param v6Only           IPV6_V6ONLY for an IPv6 address
 * @param maxConnections   most connections holding a permit at once
 * @param handlerTimeLimit longest a handler may run, or null
 * @param idleLimit        longest a connection may carry no bytes, or null
 * @param finishTimeout    deadline of each graceful ending
 * @param finishQuietPeriod how long a graceful ending waits for a quiet peer's FIN once all is acknowledged
 * @param drainPeriod      how long running handlers may go on after shutdown begins
 */
record ServerOptions(InetSocketAddress address, int backlog, boolean v6Only, int maxConnections,
                     Duration handlerTimeLimit, Duration idleLimit, Duration finishTimeout, Duration finishQuietPeriod,
                     Duration drainPeriod) {

    static final int DEFAULT_MAX_CONNECTIONS = 10_000;
    static final Duration DEFAULT_DRAIN_PERIOD = Duration.ofSeconds(5);

    static ServerOptions defaults(InetSocketAddress address) {
        return new ServerOptions(Objects.requireNonNull(address, "address"), TcpListener.DEFAULT_BACKLOG, false,
                DEFAULT_MAX_CONNECTIONS, null, null, TcpConnection.DEFAULT_FINISH_TIMEOUT,
                TcpConnection.DEFAULT_FINISH_QUIET_PERIOD, DEFAULT_DRAIN_PERIOD);
    }

    ServerOptions withBacklog(int backlog) {
        if (backlog < 1) {
            throw new IllegalArgumentException("backlog must be at least 1: " + backlog);
        }
        return new ServerOptions(address, backlog, v6Only, maxConnections, handlerTimeLimit, idleLimit,
                finishTimeout, finishQuietPeriod, drainPeriod);
    }

    ServerOptions withV6Only(boolean v6Only) {
        return new ServerOptions(address, backlog, v6Only, maxConnections, handlerTimeLimit, idleLimit,
                finishTimeout, finishQuietPeriod, drainPeriod);
    }

    ServerOptions withMaxConnections(int maxConnections) {
        if (maxConnections < 1) {
            throw new IllegalArgumentException("maxConnections must be at least 1: " + maxConnections);
        }
        return new ServerOptions(address, backlog, v6Only, maxConnections, handlerTimeLimit, idleLimit,
                finishTimeout, finishQuietPeriod, drainPeriod);
    }

    ServerOptions withHandlerTimeLimit(Duration limit) {
        return new ServerOptions(address, backlog, v6Only, maxConnections, positiveOrNull(limit, "handlerTimeLimit"),
                idleLimit, finishTimeout, finishQuietPeriod, drainPeriod);
    }

    ServerOptions withIdleLimit(Duration limit) {
        return new ServerOptions(address, backlog, v6Only, maxConnections, handlerTimeLimit,
                positiveOrNull(limit, "idleLimit"), finishTimeout, finishQuietPeriod, drainPeriod);
    }

    ServerOptions withFinishTimeout(Duration timeout) {
        return new ServerOptions(address, backlog, v6Only, maxConnections, handlerTimeLimit, idleLimit,
                Objects.requireNonNull(positiveOrNull(timeout, "finishTimeout"), "finishTimeout"), finishQuietPeriod,
                drainPeriod);
    }

    ServerOptions withFinishQuietPeriod(Duration period) {
        return new ServerOptions(address, backlog, v6Only, maxConnections, handlerTimeLimit, idleLimit, finishTimeout,
                Objects.requireNonNull(positiveOrNull(period, "finishQuietPeriod"), "finishQuietPeriod"), drainPeriod);
    }

    ServerOptions withDrainPeriod(Duration period) {
        Objects.requireNonNull(period, "drainPeriod");
        if (period.isNegative()) {
            throw new IllegalArgumentException("drainPeriod must not be negative: " + period);
        }
        return new ServerOptions(address, backlog, v6Only, maxConnections, handlerTimeLimit, idleLimit,
                finishTimeout, finishQuietPeriod, period);
    }

    private static Duration positiveOrNull(Duration d, String name) {
        if (d != null && (d.isNegative() || d.isZero())) {
            throw new IllegalArgumentException(name + " must be positive, or null for none: " + d);
        }
        return d;
    }
}
