package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.internal.transport.ListenOptions;
import dev.tcpscope.internal.transport.ListeningSocket;
import dev.tcpscope.internal.transport.StreamSocket;
import dev.tcpscope.internal.transport.Transport;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * The native transport: Linux system calls through FFM ({@link NativeSocket}, {@link NativeListener})
 * on the shared {@link Poller}. SO_LINGER {1, 0} is set before connect(2), and on the listening
 * socket before bind(2), whose accepted sockets inherit it from the kernel: no window without it.
 * The graceful ending confirms delivery with SIOCOUTQ ({@link LingeringClose}).
 */
public final class NativeTransport implements Transport {

    /** The one instance. */
    public static final NativeTransport INSTANCE = new NativeTransport();

    /** The name shown by {@code toString()} and JFR. */
    public static final String NAME = "native";

    private NativeTransport() {}

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public StreamSocket connect(InetSocketAddress address, Duration timeout, InetSocketAddress local) throws IOException {
        return new Connector(LinuxSyscalls.INSTANCE, Poller.shared())
                .connect(address, timeout, local, s -> s.options().setLinger(SocketOptions.Linger.ABORT));
    }

    @Override
    public ListeningSocket listen(InetSocketAddress address, ListenOptions options) throws IOException {
        boolean v6 = address.getAddress() instanceof Inet6Address;
        // NativeListener.listen closes the socket on any failure, Errors included.
        return NativeListener.listen(LinuxSyscalls.INSTANCE, Poller.shared(), address, options.backlog(), l -> {
            l.options().setLinger(SocketOptions.Linger.ABORT);
            if (v6) {
                l.options().setInt(SocketOptions.IPPROTO_IPV6, SocketOptions.IPV6_V6ONLY, options.v6Only() ? 1 : 0);
            }
            if (options.reusePort()) {
                l.options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_REUSEPORT, 1);
            }
            if (options.receiveBufferSize() > 0) {
                l.options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_RCVBUF, options.receiveBufferSize());
            }
        });
    }
}
