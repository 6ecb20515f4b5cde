package dev.tcpscope.internal.socket;

import dev.tcpscope.TcpOptions;
import dev.tcpscope.internal.ffi.x86_64.Libc;
import jdk.net.ExtendedSocketOptions;

import java.io.IOException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.time.Duration;
import java.util.Set;

/**
 * The JDK's socket options (and {@link TcpOptions}') as setsockopt/getsockopt calls on a native
 * socket: level, name and the int the kernel takes, every constant from the generated bindings
 * (checked against C by AbiProbeTest). The values reach here already checked by the connection.
 *
 * <p>IP_TOS on an IPv6 socket is IPV6_TCLASS, the same octet in the IPv6 header; it is set as
 * IP_TOS too, which Linux applies to the socket's IPv4-mapped traffic (as the JDK does).
 * TCP_USER_TIMEOUT is given in milliseconds, a fraction rounded up.
 */
final class NativeOptionMapping {

    static final int IPPROTO_IP = Libc.IPPROTO_IP();
    static final int IP_TOS = Libc.IP_TOS();
    static final int IPV6_TCLASS = Libc.IPV6_TCLASS();
    static final int TCP_KEEPIDLE = Libc.TCP_KEEPIDLE();
    static final int TCP_KEEPINTVL = Libc.TCP_KEEPINTVL();
    static final int TCP_KEEPCNT = Libc.TCP_KEEPCNT();
    static final int TCP_USER_TIMEOUT = Libc.TCP_USER_TIMEOUT();
    private static final int AF_INET6 = Libc.AF_INET6();

    /** Every option a native stream socket supports. */
    static final Set<SocketOption<?>> SUPPORTED = Set.of(
            StandardSocketOptions.TCP_NODELAY, StandardSocketOptions.SO_KEEPALIVE,
            StandardSocketOptions.SO_RCVBUF, StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.IP_TOS,
            ExtendedSocketOptions.TCP_KEEPIDLE, ExtendedSocketOptions.TCP_KEEPINTERVAL,
            ExtendedSocketOptions.TCP_KEEPCOUNT, TcpOptions.TCP_USER_TIMEOUT);

    private NativeOptionMapping() {}

    /** Sets {@code option} to {@code value} with setsockopt. */
    static void set(SocketOptions options, int family, SocketOption<?> option, Object value) throws IOException {
        if (option == StandardSocketOptions.IP_TOS && family == AF_INET6) {
            options.setInt(SocketOptions.IPPROTO_IPV6, IPV6_TCLASS, (Integer) value);
        }
        options.setInt(level(option), name(option), toInt(option, value));
    }

    /** {@return {@code option}'s value, from getsockopt} */
    static Object get(SocketOptions options, int family, SocketOption<?> option) throws IOException {
        int v = option == StandardSocketOptions.IP_TOS && family == AF_INET6
                ? options.getInt(SocketOptions.IPPROTO_IPV6, IPV6_TCLASS)
                : options.getInt(level(option), name(option));
        if (option.type() == Boolean.class) {
            return v != 0;
        }
        if (option == TcpOptions.TCP_USER_TIMEOUT) {
            return Duration.ofMillis(Integer.toUnsignedLong(v));
        }
        return v;
    }

    private static int toInt(SocketOption<?> option, Object value) {
        if (value instanceof Boolean on) {
            return on ? 1 : 0;
        }
        if (value instanceof Duration timeout) { // TCP_USER_TIMEOUT: whole milliseconds, rounded up
            long millis = timeout.toMillis();
            return (int) (Duration.ofMillis(millis).equals(timeout) ? millis : millis + 1);
        }
        return (Integer) value;
    }

    private static int level(SocketOption<?> option) {
        if (option == StandardSocketOptions.SO_KEEPALIVE || option == StandardSocketOptions.SO_RCVBUF
                || option == StandardSocketOptions.SO_SNDBUF) {
            return SocketOptions.SOL_SOCKET;
        }
        if (option == StandardSocketOptions.IP_TOS) {
            return IPPROTO_IP;
        }
        return SocketOptions.IPPROTO_TCP;
    }

    private static int name(SocketOption<?> option) {
        if (option == StandardSocketOptions.TCP_NODELAY) {
            return SocketOptions.TCP_NODELAY;
        } else if (option == StandardSocketOptions.SO_KEEPALIVE) {
            return SocketOptions.SO_KEEPALIVE;
        } else if (option == StandardSocketOptions.SO_RCVBUF) {
            return SocketOptions.SO_RCVBUF;
        } else if (option == StandardSocketOptions.SO_SNDBUF) {
            return SocketOptions.SO_SNDBUF;
        } else if (option == StandardSocketOptions.IP_TOS) {
            return IP_TOS;
        } else if (option == ExtendedSocketOptions.TCP_KEEPIDLE) {
            return TCP_KEEPIDLE;
        } else if (option == ExtendedSocketOptions.TCP_KEEPINTERVAL) {
            return TCP_KEEPINTVL;
        } else if (option == ExtendedSocketOptions.TCP_KEEPCOUNT) {
            return TCP_KEEPCNT;
        } else if (option == TcpOptions.TCP_USER_TIMEOUT) {
            return TCP_USER_TIMEOUT;
        }
        throw new AssertionError("not a native option: " + option); // the connection checked SUPPORTED
    }
}
