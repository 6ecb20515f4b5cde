package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.os.SocketAddresses;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.internal.poll.Readiness;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Opens a connected {@link NativeSocket} to a host name or address: every resolved address is
 * tried in turn, all within one timeout, each attempt on a fresh socket that is prepared (e.g.
 * with SO_LINGER) before its connect(2) so that not even the handshake happens unprepared.
 */
public final class Connector {

    /** Prepares a fresh socket before connect(2); an exception aborts the attempt. */
    @FunctionalInterface
    public interface Preparation {
        void prepare(NativeSocket socket) throws IOException;
    }

    private final Syscalls syscalls;
    private final Poller poller;

    public Connector(Syscalls syscalls, Poller poller) {
        this.syscalls = syscalls;
        this.poller = poller;
    }

    /**
     * Connects to {@code host}:{@code port}.
     *
     * @param timeout   for all attempts together, from when the name has been resolved (name
     *                  resolution is the JDK's and not bounded by it); {@code null} for none
     * @param local     local address to bind before connecting, or {@code null}
     * @param preparation applied to each fresh socket before connect
     * @throws UnknownHostException the name did not resolve
     * @throws SocketTimeoutException the timeout passed
     * @throws ConnectException every address refused (the others are suppressed in it)
     */
    public NativeSocket connect(String host, int port, Duration timeout, InetSocketAddress local,
                                Preparation preparation) throws IOException {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("host must not be empty");
        }
        Objects.requireNonNull(preparation, "preparation");
        checkPort(port);
        long deadline = Deadline.after(timeout);
        List<InetAddress> addresses = List.of(InetAddress.getAllByName(host));
        return connect(addresses, port, deadline, local, preparation);
    }

    /** Connects to one resolved address; see {@link #connect(String, int, Duration, InetSocketAddress, Preparation)}. */
    public NativeSocket connect(InetSocketAddress address, Duration timeout, InetSocketAddress local,
                                Preparation preparation) throws IOException {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(preparation, "preparation");
        if (address.isUnresolved()) {
            return connect(address.getHostString(), address.getPort(), timeout, local, preparation);
        }
        checkPort(address.getPort());
        return connect(List.of(address.getAddress()), address.getPort(), Deadline.after(timeout), local, preparation);
    }

    private NativeSocket connect(List<InetAddress> addresses, int port, long deadline, InetSocketAddress local,
                                 Preparation preparation) throws IOException {
        IOException first = null;
        for (InetAddress address : addresses) {
            if (local != null && SocketAddresses.family(local.getAddress()) == SocketAddresses.AF_INET
                    && SocketAddresses.family(address) == SocketAddresses.AF_INET6) {
                continue; // an IPv4 local address cannot reach an IPv6 peer
            }
            int family = local != null && SocketAddresses.family(local.getAddress()) == SocketAddresses.AF_INET6
                    ? SocketAddresses.AF_INET6 : SocketAddresses.family(address);
            NativeSocket socket = NativeSocket.open(syscalls, poller, family);
            try {
                preparation.prepare(socket);
                if (local != null) {
                    socket.bind(local);
                }
                socket.connect(new InetSocketAddress(address, port), deadline);
                return socket;
            } catch (InterruptedIOException | dev.tcpscope.ConnectionClosedException e) {
                // The deadline passed, the thread was interrupted, or the attempt was closed to
                // cancel it: no further address is tried.
                socket.close("abandoned", e);
                if (first != null) {
                    e.addSuppressed(first);
                }
                throw e;
            } catch (IOException | RuntimeException | Error e) {
                // Error too (thrown by a preparation, or out of memory): the socket is ours to close.
                socket.close("abandoned", e);
                if (e instanceof RuntimeException re) {
                    throw re;
                }
                if (e instanceof Error error) {
                    throw error;
                }
                if (first == null) {
                    first = (IOException) e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first == null) {
            throw new ConnectException("no address of a usable family to connect to: " + addresses);
        }
        throw first;
    }

    private static void checkPort(int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range 1..65535: " + port);
        }
    }
}
