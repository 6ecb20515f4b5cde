package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.SocketAddresses;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.internal.poll.Readiness;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * with SO_LINGER) before its connect(2) so that not even the handshake happens unprepared. The
 * handshake itself is here too: a non-blocking connect(2), parked on the socket's readiness.
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

    /**
     * {@link NativeSocket#connect}: connects {@code socket} to {@code address}, parking until the
     * handshake completes, fails or the deadline passes (non-blocking connect: EINPROGRESS, wait
     * until writable, then SO_ERROR).
     *
     * @param deadline a {@link System#nanoTime()} value or {@link Deadline#NONE}
     */
    static void handshake(NativeSocket socket, InetSocketAddress address, long deadline) throws IOException {
        String what = "connect to " + address;
        Deadline.lock(socket.writeLock, deadline, what);
        try {
            int fd = socket.descriptor.acquire();
            try {
                int result;
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment sa = SocketAddresses.encode(address, socket.family, arena);
                    result = socket.syscalls.connect(fd, sa, (int) sa.byteSize());
                }
                // EINTR on connect does not stop the handshake, which goes on in the kernel:
                // wait for it as for EINPROGRESS (retrying connect would fail with EALREADY).
                if (result < 0 && result != -Errno.EINPROGRESS && result != -Errno.EINTR) {
                    throw Errno.exception("connect", -result, "to " + address);
                }
                while (result < 0 && !isConnected(socket, fd)) {
                    socket.descriptor.awaitWritable(deadline, what);
                    // SO_ERROR takes the pending error: read it inside the sending slot.
                    int error;
                    socket.errors.enter(FatalErrorRecord.SEND);
                    try {
                        error = socket.options.getInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_ERROR);
                        if (error == Errno.ECONNRESET || error == Errno.EPIPE) {
                            // The handshake completed and the peer reset right after (on loopback
                            // it can even have sent data first): connected, and the reset is
                            // reported by reads after the bytes that arrived, like any other reset.
                            socket.errors.record(error, "connect");
                        }
                    } finally {
                        socket.errors.exit(FatalErrorRecord.SEND);
                    }
                    if (error == Errno.ECONNRESET || error == Errno.EPIPE) {
                        break;
                    }
                    if (error != 0) {
                        throw Errno.exception("connect", error, "to " + address);
                    }
                }
                socket.remote = address;
            } finally {
                socket.descriptor.release();
            }
        } finally {
            socket.writeLock.unlock();
        }
    }

    /**
     * Writable readiness can be stale (an edge of an earlier attempt on this socket, or a spurious
     * wake-up): ask the kernel whether the handshake is done.
     */
    private static boolean isConnected(NativeSocket socket, int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocate(SocketAddresses.STORAGE_SIZE, 8);
            MemorySegment length = arena.allocateFrom(ValueLayout.JAVA_INT, (int) SocketAddresses.STORAGE_SIZE);
            return socket.syscalls.getpeername(fd, sa, length) == 0;
        }
    }

    private static void checkPort(int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range 1..65535: " + port);
        }
    }
}
