package dev.tcpscope;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.transport.StreamSocket;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;

/**
 * The settings of one {@link TcpConnection} and the socket options it passes down: the read and
 * write timeouts, the graceful ending's quiet period, the socket's options and addresses.
 * {@code TcpConnection} keeps the public methods (and their Javadoc); their logic is here, so
 * that the connection's file reads as I/O and endings.
 */
final class ConnectionOptions {

    private final StreamSocket socket;
    private volatile Duration readTimeout;
    private volatile Duration writeTimeout;
    private volatile Duration finishQuietPeriod = TcpConnection.DEFAULT_FINISH_QUIET_PERIOD;

    ConnectionOptions(StreamSocket socket) {
        this.socket = socket;
    }

    // ---------------------------------------------------------------- timeouts

    /** {@return the deadline of a read starting now} */
    long readDeadline() {
        return Deadline.after(readTimeout);
    }

    /** {@return the deadline of a write starting now} */
    long writeDeadline() {
        return Deadline.after(writeTimeout);
    }

    void readTimeout(Duration timeout) {
        this.readTimeout = checkTimeout(timeout);
    }

    Duration readTimeout() {
        return readTimeout;
    }

    void writeTimeout(Duration timeout) {
        this.writeTimeout = checkTimeout(timeout);
    }

    Duration writeTimeout() {
        return writeTimeout;
    }

    private static Duration checkTimeout(Duration timeout) {
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("timeout must be positive, or null for none: " + timeout);
        }
        return timeout;
    }

    void finishQuietPeriod(Duration period) {
        Objects.requireNonNull(period, "period");
        if (period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("finish quiet period must be positive: " + period);
        }
        this.finishQuietPeriod = period;
    }

    Duration finishQuietPeriod() {
        return finishQuietPeriod;
    }

    // ---------------------------------------------------------------- socket options

    <T> void setOption(SocketOption<T> option, T value) throws IOException {
        OptionValues.checkSupported(option, socket.supportedOptions());
        socket.setOption(option, OptionValues.check(option, value));
    }

    <T> T getOption(SocketOption<T> option) throws IOException {
        OptionValues.checkSupported(option, socket.supportedOptions());
        return socket.getOption(option);
    }

    Set<SocketOption<?>> supportedOptions() {
        Set<SocketOption<?>> supported = socket.supportedOptions();
        Set<SocketOption<?>> ordered = new LinkedHashSet<>();
        for (SocketOption<?> option : OptionValues.KNOWN) {
            if (supported.contains(option)) {
                ordered.add(option);
            }
        }
        return Collections.unmodifiableSet(ordered);
    }

    // ---------------------------------------------------------------- addresses

    InetSocketAddress localAddress() {
        return socket.localAddress();
    }

    InetSocketAddress remoteAddress() {
        return socket.remoteAddress();
    }
}
