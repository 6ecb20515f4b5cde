package dev.tcpscope;

import java.net.SocketOption;
import java.time.Duration;

/**
 * Socket options tcpscope adds to the JDK's vocabulary ({@link java.net.StandardSocketOptions},
 * {@code jdk.net.ExtendedSocketOptions}), for {@link TcpConnection#setOption} and
 * {@link TcpConnection#getOption}.
 */
public final class TcpOptions {

    private TcpOptions() {}

    /**
     * TCP_USER_TIMEOUT (RFC 5482; Linux's {@code tcp(7)}): how long bytes we sent may stay
     * unacknowledged (or a keep-alive probe unanswered) before the kernel gives the connection
     * up. The value is a {@link Duration}, given to the kernel in whole milliseconds (a
     * fraction is rounded up, so that a positive timeout never becomes 0); {@link Duration#ZERO}
     * restores the system's behaviour (retransmission limits, {@code tcp_retries2}). Allowed:
     * 0 to {@link Integer#MAX_VALUE} milliseconds; else {@link IllegalArgumentException}.
     *
     * <p><b>The ending it causes.</b> When the timeout passes, the kernel drops the connection
     * without sending anything (no RST: the peer is presumed unreachable) and reports ETIMEDOUT
     * once, to whichever call looks first. tcpscope remembers it: from then on every read and
     * write on every thread throws {@link SystemCallException} naming ETIMEDOUT, and a read never
     * returns -1 for it (README, "Remembered errors").
     *
     * <p><b>Native transport only.</b> The JDK's channels have no such option: on the portable
     * transport {@code setOption} and {@code getOption} throw
     * {@link UnsupportedOperationException}, and {@link TcpConnection#supportedOptions()} does
     * not list it.
     */
    public static final SocketOption<Duration> TCP_USER_TIMEOUT = new Option<>("TCP_USER_TIMEOUT", Duration.class);

    /** A named option of tcpscope's, compared by identity as the JDK's are. */
    private record Option<T>(String name, Class<T> type) implements SocketOption<T> {
        @Override
        public String toString() {
            return name;
        }
    }
}
