package dev.tcpscope;

import jdk.net.ExtendedSocketOptions;

import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The rules of {@link TcpConnection#setOption} and {@code getOption} that do not depend on the
 * transport: which options a connection knows, SO_LINGER's refusal, and each value's range
 * (Linux's limits, checked here so that both transports refuse the same values with the same
 * {@link IllegalArgumentException}, naming the option and the value).
 */
final class OptionValues {

    /** Every option a connection may support, in the order {@code supportedOptions()} lists them. */
    static final List<SocketOption<?>> KNOWN = List.of(
            StandardSocketOptions.TCP_NODELAY, StandardSocketOptions.SO_KEEPALIVE,
            StandardSocketOptions.SO_RCVBUF, StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.IP_TOS,
            ExtendedSocketOptions.TCP_KEEPIDLE, ExtendedSocketOptions.TCP_KEEPINTERVAL,
            ExtendedSocketOptions.TCP_KEEPCOUNT, TcpOptions.TCP_USER_TIMEOUT);

    /** Linux's MAX_TCP_KEEPIDLE and MAX_TCP_KEEPINTVL (seconds), and MAX_TCP_KEEPCNT. */
    static final int MAX_KEEPALIVE_SECONDS = 32_767;
    static final int MAX_KEEPALIVE_PROBES = 127;

    private OptionValues() {}

    /**
     * Refuses an option this connection cannot take: SO_LINGER always (the linger is how
     * tcpscope ends connections), any other one {@code supported} does not hold.
     *
     * @throws UnsupportedOperationException naming the option
     */
    static void checkSupported(SocketOption<?> option, Set<SocketOption<?>> supported) {
        Objects.requireNonNull(option, "option");
        if (option == StandardSocketOptions.SO_LINGER) {
            throw new UnsupportedOperationException("'SO_LINGER' is not available: tcpscope sets it itself, it is"
                    + " how a connection ends (RST by default, FIN after finish()); use finish() or abort()");
        }
        if (!supported.contains(option)) {
            throw new UnsupportedOperationException("'" + option.name() + "' not supported"
                    + (option == TcpOptions.TCP_USER_TIMEOUT ? " on the portable transport (the JDK has no such option)"
                    : ""));
        }
    }

    /**
     * {@return {@code value}, checked against {@code option}'s range}
     *
     * @throws IllegalArgumentException null, or out of range; the message names both
     */
    static <T> T check(SocketOption<T> option, T value) {
        if (value == null) {
            throw new IllegalArgumentException(option.name() + ": the value must not be null");
        }
        if (!option.type().isInstance(value)) {
            throw new IllegalArgumentException(option.name() + ": a " + option.type().getSimpleName()
                    + " is needed, not " + value.getClass().getName());
        }
        if (option == StandardSocketOptions.SO_RCVBUF || option == StandardSocketOptions.SO_SNDBUF) {
            range(option, (Integer) value, 0, Integer.MAX_VALUE, "bytes");
        } else if (option == StandardSocketOptions.IP_TOS) {
            range(option, (Integer) value, 0, 255, "an octet");
        } else if (option == ExtendedSocketOptions.TCP_KEEPIDLE || option == ExtendedSocketOptions.TCP_KEEPINTERVAL) {
            range(option, (Integer) value, 1, MAX_KEEPALIVE_SECONDS, "seconds");
        } else if (option == ExtendedSocketOptions.TCP_KEEPCOUNT) {
            range(option, (Integer) value, 1, MAX_KEEPALIVE_PROBES, "probes");
        } else if (option == TcpOptions.TCP_USER_TIMEOUT) {
            Duration d = (Duration) value;
            if (d.isNegative() || d.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) > 0) {
                throw new IllegalArgumentException(option.name() + " out of range: " + d
                        + " (0 for the system's default, up to " + Integer.MAX_VALUE + " ms)");
            }
        }
        return value;
    }

    private static void range(SocketOption<?> option, int value, int min, int max, String unit) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(option.name() + " out of range: " + value + " (" + unit + ", "
                    + min + ".." + max + ")");
        }
    }
}
