package dev.tcpscope;

import dev.tcpscope.internal.poll.Deadline;
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
        return bind(address, DEFAULT_BACKLOG, false);
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
        Objects.requireNonNull(address, "address");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("address is unresolved: " + address);
        }
        if (backlog < 1) {
            throw new IllegalArgumentException("backlog must be at least 1: " + backlog);
        }
        // The transport closes the socket on any failure, Errors included.
        return new TcpListener(Transports.current().listen(address, backlog, v6Only));
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
