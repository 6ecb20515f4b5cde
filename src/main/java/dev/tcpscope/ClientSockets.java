package dev.tcpscope;

import dev.tcpscope.internal.tls.TlsSockets;
import dev.tcpscope.internal.transport.StreamSocket;
import dev.tcpscope.internal.transport.Transports;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The bodies of {@link TcpConnection}'s static {@code connect} and {@code connectTls} factories:
 * their argument checks, then the socket from the transport that runs (or from
 * {@link TlsSockets}, handshake done). The factories wrap what these return; {@link HostAndPort}
 * checks a host name and port first.
 */
final class ClientSockets {

    private ClientSockets() {}

    /** {@return a connected socket of the current transport}; see {@link TcpConnection#connect(InetSocketAddress, Duration, InetSocketAddress)} */
    static StreamSocket connect(InetSocketAddress address, Duration timeout, InetSocketAddress localAddress)
            throws IOException {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(timeout, "timeout");
        return Transports.current().connect(address, timeout, localAddress);
    }

    /** {@return a connected TLS socket, handshake done}; see {@link TcpConnection#connectTls(InetSocketAddress, Duration, SSLContext, String, Consumer)} */
    static StreamSocket connectTls(InetSocketAddress address, Duration timeout, SSLContext context,
                                   String serverName, Consumer<SSLParameters> parameters) throws IOException {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(context, "context");
        return TlsSockets.connect(address, timeout, context, serverName, parameters);
    }
}
