package dev.tcpscope.internal.portable;

import jdk.net.ExtendedSocketOptions;

import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The socket options of the portable transport: which of a connection's options the JDK's
 * channels have, and what {@code getOption} returns (the kernel's value, as on native).
 */
final class PortableOptions {

    /**
     * The options a connection knows that the JDK's channels may have: all but TCP_USER_TIMEOUT
     * (README's transport table: "not exposed"). The keep-alive timings are
     * {@code jdk.net.ExtendedSocketOptions}, which a JDK offers where its platform has them.
     */
    private static final Set<SocketOption<?>> KNOWN = Set.of(
            StandardSocketOptions.TCP_NODELAY, StandardSocketOptions.SO_KEEPALIVE,
            StandardSocketOptions.SO_RCVBUF, StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.IP_TOS,
            ExtendedSocketOptions.TCP_KEEPIDLE, ExtendedSocketOptions.TCP_KEEPINTERVAL,
            ExtendedSocketOptions.TCP_KEEPCOUNT);

    /** On Linux the JDK halves SO_RCVBUF and SO_SNDBUF as getsockopt reports them: see {@link #kernelValue}. */
    private static final boolean JDK_HALVES_BUFFER_SIZES = System.getProperty("os.name", "").startsWith("Linux");

    private static volatile Set<SocketOption<?>> supported; // a benign race: every thread computes the same

    private PortableOptions() {}

    /** {@return {@link #KNOWN}, those the JDK's SocketChannels have} (the same for every channel: computed once) */
    static Set<SocketOption<?>> supported(SocketChannel channel) {
        Set<SocketOption<?>> s = supported;
        if (s == null) {
            supported = s = KNOWN.stream().filter(channel.supportedOptions()::contains)
                    .collect(Collectors.toUnmodifiableSet());
        }
        return s;
    }

    /**
     * {@return the channel's {@code value} of {@code option} as the kernel holds it} The same,
     * except SO_RCVBUF and SO_SNDBUF on Linux: there the JDK halves what getsockopt returns
     * (Linux doubles the value set, for its bookkeeping, and the JDK makes the pair look
     * symmetric); doubling it back gives the kernel's value, which is what {@code getOption}
     * means on both transports (seen here: after setting 40,000, the JDK read 40,000 where
     * getsockopt read 80,000; the kernel's value is always even, so this is exact).
     */
    static <T> T kernelValue(SocketOption<T> option, T value) {
        if (JDK_HALVES_BUFFER_SIZES
                && (option == StandardSocketOptions.SO_RCVBUF || option == StandardSocketOptions.SO_SNDBUF)) {
            return option.type().cast((Integer) value * 2);
        }
        return value;
    }
}
