package dev.tcpscope.internal.portable;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.transport.ListenOptions;
import dev.tcpscope.internal.transport.ListeningSocket;
import dev.tcpscope.internal.transport.StreamSocket;
import dev.tcpscope.internal.transport.Transport;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The portable transport: the JDK's own {@link SocketChannel} and {@link ServerSocketChannel} in
 * blocking mode, wherever Java runs. Same contract as the native transport, except where the
 * JDK cannot do what Linux's system calls do (each difference is documented where it arises, and
 * in the README's platform table): no proof of delivery ({@link PortableLingeringClose}), a short
 * window without SO_LINGER on accepted channels ({@link PortableListener}), and write deadlines
 * and interrupts that abort the connection ({@link PortableSocket}).
 */
public final class PortableTransport implements Transport {

    /** The one instance. */
    public static final PortableTransport INSTANCE = new PortableTransport();

    private PortableTransport() {
        JdkPollerStart.now(); // before the first channel, while descriptors are free
    }

    @Override
    public String name() {
        return PortableSocket.TRANSPORT;
    }

    @Override
    public StreamSocket connect(InetSocketAddress address, Duration timeout, InetSocketAddress local) throws IOException {
        Objects.requireNonNull(address, "address");
        int port = address.getPort();
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range 1..65535: " + port);
        }
        long deadline = Deadline.after(timeout);
        List<InetAddress> addresses = address.isUnresolved()
                ? List.of(InetAddress.getAllByName(address.getHostString()))
                : List.of(address.getAddress());
        IOException first = null;
        for (InetAddress candidate : addresses) {
            boolean v6 = candidate instanceof Inet6Address || (local != null && local.getAddress() instanceof Inet6Address);
            if (local != null && !(local.getAddress() instanceof Inet6Address) && candidate instanceof Inet6Address) {
                continue; // an IPv4 local address cannot reach an IPv6 peer
            }
            SocketChannel channel = SocketChannel.open(v6 ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
            try {
                channel.setOption(StandardSocketOptions.SO_LINGER, 0); // abort by default, before the handshake
                if (local != null) {
                    channel.bind(local);
                }
                connect(channel, new InetSocketAddress(candidate, port), deadline);
                return new PortableSocket(channel);
            } catch (InterruptedIOException e) {
                channel.close();
                if (first != null) {
                    e.addSuppressed(first);
                }
                throw e; // the deadline passed or the thread was interrupted: no further address is tried
            } catch (IOException | RuntimeException | Error e) {
                channel.close();
                if (!(e instanceof IOException io)) {
                    throw e;
                }
                if (first == null) {
                    first = io;
                } else {
                    first.addSuppressed(io);
                }
            }
        }
        if (first == null) {
            throw new ConnectException("no address of a usable family to connect to: " + addresses);
        }
        throw first;
    }

    /** A timed connect through the socket adaptor (a blocking channel's connect has no timeout). */
    private static void connect(SocketChannel channel, InetSocketAddress to, long deadline) throws IOException {
        if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedIOException("connect to " + to + " interrupted");
        }
        int millis = 0;
        if (deadline != Deadline.NONE) {
            long nanos = Deadline.remainingNanos(deadline);
            if (nanos == 0) {
                throw new SocketTimeoutException("connect to " + to + " timed out");
            }
            millis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, (nanos + 999_999) / 1_000_000));
        }
        try {
            channel.socket().connect(to, millis);
        } catch (ClosedByInterruptException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException interrupted = new InterruptedIOException("connect to " + to + " interrupted");
            interrupted.initCause(e);
            throw interrupted;
        } catch (java.net.SocketException e) {
            if (Thread.currentThread().isInterrupted()) { // the adaptor may report the interrupt's close so
                InterruptedIOException interrupted = new InterruptedIOException("connect to " + to + " interrupted");
                interrupted.initCause(e);
                throw interrupted;
            }
            if (ChannelFailures.kind(e) == ChannelFailures.Kind.RESET) {
                // The peer accepted and reset before the JDK's connect returned; the JDK has closed
                // the channel, so the bytes it may have sent first are lost (the native transport
                // returns a connection that reads them, then the reset). Typed as a reset.
                throw new dev.tcpscope.ConnectionResetException("connect to " + to + ": " + e.getMessage());
            }
            throw e;
        }
    }

    @Override
    public ListeningSocket listen(InetSocketAddress address, ListenOptions options) throws IOException {
        boolean v6 = address.getAddress() instanceof Inet6Address;
        if (v6 && options.v6Only()) {
            // The JDK's channels expose no IPV6_V6ONLY: refuse rather than listen on IPv4 too.
            throw new UnsupportedOperationException("v6Only is not available on the portable transport"
                    + " (the JDK's channels have no IPV6_V6ONLY option)");
        }
        ServerSocketChannel channel = ServerSocketChannel.open(v6 ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (options.reusePort()) {
                if (!channel.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT)) {
                    throw new UnsupportedOperationException("reusePort: SO_REUSEPORT is not available on this platform");
                }
                channel.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            }
            if (options.receiveBufferSize() > 0) {
                channel.setOption(StandardSocketOptions.SO_RCVBUF, options.receiveBufferSize());
            }
            channel.bind(address, options.backlog());
            return new PortableListener(channel);
        } catch (IOException | RuntimeException | Error e) {
            channel.close();
            throw e;
        }
    }
}
