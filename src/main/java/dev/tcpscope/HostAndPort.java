package dev.tcpscope;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * The checks of {@code connect(String host, int port)} ({@link TcpConnection} and
 * {@link TcpScope}), and the unresolved address they connect to: the name is resolved by the
 * connect, which tries each of its addresses in turn, as for any unresolved address.
 */
final class HostAndPort {

    private HostAndPort() {}

    /**
     * {@return an unresolved address of {@code host} and {@code port}}
     *
     * @throws NullPointerException     {@code host} is null ("host")
     * @throws IllegalArgumentException {@code host} is empty or blank, or {@code port} is not
     *                                  in 1..65535 (the message names the value)
     */
    static InetSocketAddress of(String host, int port) {
        Objects.requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("host is empty: \"" + host + "\" (use \"localhost\" for the loopback address)");
        }
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port out of range: " + port + " (a connection needs 1..65535)");
        }
        return InetSocketAddress.createUnresolved(host, port);
    }
}
