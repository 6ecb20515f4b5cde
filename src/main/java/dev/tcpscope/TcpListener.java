package dev.tcpscope;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.transport.ListenOptions;
import dev.tcpscope.internal.transport.ListeningSocket;
import dev.tcpscope.internal.transport.StreamSocket;
import dev.tcpscope.internal.transport.Transports;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * A listening socket that accepts {@link TcpConnection}s which abort by default: SO_LINGER
 * {1, 0} is set on the listener, and accepted sockets inherit it from the kernel, so there is no
 * moment at which an accepted connection would end with a misleading FIN. SO_REUSEADDR is set.
 * (On the portable transport the JDK's ServerSocketChannel rejects SO_LINGER: it is set on each
 * accepted channel right after accept, which leaves a short window; see the README's platform
 * table.)
 * {@link TcpServer} is built on it.
 *
 * <p>This class does not use preview APIs: its class file carries no preview marking, so it loads
 * without {@code --enable-preview}, on JDK 25 and any later JDK, unlike {@link TcpServer}, which
 * needs JDK 25 exactly (README, "Java versions").
 */
public final class TcpListener implements AutoCloseable {

    /** The default backlog: 1024 (the kernel caps it at net.core.somaxconn). */
    public static final int DEFAULT_BACKLOG = 1024;

    private final ListeningSocket listener;
    /** What each accepted socket becomes (a TLS server's: a TLS socket around it); set by {@link TcpServer}. */
    private volatile UnaryOperator<StreamSocket> accepted = UnaryOperator.identity();

    private TcpListener(ListeningSocket listener) {
        this.listener = listener;
    }

    /** Binds and listens on {@code address} with {@link #DEFAULT_BACKLOG}; port 0 picks a free port. */
    public static TcpListener bind(InetSocketAddress address) throws IOException {
        return builder(address).bind();
    }

    /**
     * Binds and listens.
     *
     * @param address  local address; an IPv6 wildcard ({@code [::]}) accepts IPv4 too unless
     *                 {@code v6Only}
     * @param backlog  pending-connection queue length, at least 1
     * @param v6Only   IPV6_V6ONLY for an IPv6 address (ignored for IPv4)
     */
    public static TcpListener bind(InetSocketAddress address, int backlog, boolean v6Only) throws IOException {
        return builder(address).backlog(backlog).v6Only(v6Only).bind();
    }

    /** {@return a builder of a listener on {@code address}, for the options set before bind(2)} */
    public static Builder builder(InetSocketAddress address) {
        Objects.requireNonNull(address, "address");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("address is unresolved: " + address);
        }
        return new Builder(address);
    }

    /** The options of a listening socket, which must be set before it binds. */
    public static final class Builder {
        private final InetSocketAddress address;
        private int backlog = DEFAULT_BACKLOG;
        private boolean v6Only;
        private boolean reusePort;
        private int receiveBufferSize;

        private Builder(InetSocketAddress address) {
            this.address = address;
        }

        /** Pending-connection queue length (default {@link #DEFAULT_BACKLOG}; the kernel caps it at net.core.somaxconn). */
        public Builder backlog(int backlog) {
            if (backlog < 1) {
                throw new IllegalArgumentException("backlog must be at least 1: " + backlog);
            }
            this.backlog = backlog;
            return this;
        }

        /** IPV6_V6ONLY for an IPv6 address (default false: {@code [::]} accepts IPv4 too; refused on the portable transport). */
        public Builder v6Only(boolean v6Only) {
            this.v6Only = v6Only;
            return this;
        }

        /**
         * SO_REUSEPORT (default false): several listeners, each with this set, may bind the same
         * address and port (in this process or in others of the same user), and the kernel
         * spreads new connections among them, e.g. one acceptor thread each.
         */
        public Builder reusePort(boolean reusePort) {
            this.reusePort = reusePort;
            return this;
        }

        /**
         * SO_RCVBUF of the listening socket, in bytes (default 0: the system's): accepted
         * connections inherit it, and it is set before listen(2), so the window offered in the
         * handshake already follows it. Linux doubles the value (its bookkeeping overhead); read
         * it back with {@code getOption(SO_RCVBUF)} on an accepted connection.
         */
        public Builder receiveBufferSize(int bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("SO_RCVBUF out of range: " + bytes + " (bytes, 0 for the default)");
            }
            this.receiveBufferSize = bytes;
            return this;
        }

        /** {@return the listener, bound and listening} The socket is closed if anything fails. */
        public TcpListener bind() throws IOException {
            // The transport closes the socket on any failure, Errors included.
            return new TcpListener(Transports.current().listen(address,
                    new ListenOptions(backlog, v6Only, reusePort, receiveBufferSize)));
        }
    }

    /** Waits for the next connection; see {@link #accept(Duration)}. */
    public TcpConnection accept() throws IOException {
        return new TcpConnection(accepted.apply(listener.accept(Deadline.NONE)));
    }

    /**
     * Waits up to {@code timeout} for the next connection.
     *
     * @throws java.net.SocketTimeoutException  none arrived in time
     * @throws ConnectionClosedException        the listener was closed
     * @throws SystemCallException              e.g. EMFILE: out of descriptors; the listener remains usable
     */
    public TcpConnection accept(Duration timeout) throws IOException {
        Objects.requireNonNull(timeout, "timeout");
        return new TcpConnection(accepted.apply(listener.accept(Deadline.after(timeout))));
    }

    /** Makes each accepted socket into what {@code wrap} returns (which closes it if it fails). */
    void wrapAccepted(UnaryOperator<StreamSocket> wrap) {
        this.accepted = wrap;
    }

    /** {@return the bound address, with the real port after binding port 0} */
    public InetSocketAddress localAddress() throws IOException {
        return listener.localAddress();
    }

    /** Stops listening; a thread waiting in {@code accept} wakes with {@link ConnectionClosedException}. */
    @Override
    public void close() {
        listener.close();
    }
}
