package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.SocketAddresses;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.internal.poll.Readiness;
import dev.tcpscope.internal.poll.SocketDescriptor;
import dev.tcpscope.internal.transport.ListeningSocket;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A listening TCP socket: bind, listen, and accept4 that parks until a connection arrives.
 *
 * <p>Options set here before {@link #listen} (SO_LINGER in particular) are inherited by every
 * accepted socket, which closes the gap between accept4 and a setsockopt on the new descriptor.
 */
public final class NativeListener implements ListeningSocket {

    private final Syscalls syscalls;
    private final Poller poller;
    private final SocketDescriptor descriptor;
    private final SocketOptions options;
    private final int family;
    private final ReentrantLock acceptLock = new ReentrantLock();
    private final LongAdder retriedErrors = new LongAdder();

    private NativeListener(Syscalls syscalls, Poller poller, SocketDescriptor descriptor, int family) {
        this.syscalls = syscalls;
        this.poller = poller;
        this.descriptor = descriptor;
        this.options = new SocketOptions(syscalls, descriptor);
        this.family = family;
    }

    /**
     * Creates a listening socket's descriptor for {@code family}, with SO_REUSEADDR set (so a
     * restarted server can bind while old connections sit in TIME_WAIT). Not yet bound.
     */
    public static NativeListener open(Syscalls syscalls, Poller poller, int family) throws IOException {
        int fd = syscalls.socket(family, NativeSocket.SOCK_STREAM | NativeSocket.SOCK_NONBLOCK | NativeSocket.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw Errno.exception("socket", -fd, null);
        }
        NativeListener listener = new NativeListener(syscalls, poller, SocketDescriptor.adopt(fd, syscalls, poller), family);
        try {
            listener.options.setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_REUSEADDR, 1);
        } catch (IOException | RuntimeException | Error e) {
            listener.close(); // whatever was thrown: nobody else holds the new socket
            throw e;
        }
        return listener;
    }

    /** Prepares a listening socket before bind(2); accepted sockets inherit what it sets. */
    @FunctionalInterface
    public interface Preparation {
        void prepare(NativeListener listener) throws IOException;
    }

    /**
     * Opens a listening socket for {@code address}'s family, prepares it, binds it and listens:
     * the listener, or nothing — on any failure, an Error included, the socket is closed before
     * the exception propagates.
     */
    public static NativeListener listen(Syscalls syscalls, Poller poller, InetSocketAddress address, int backlog,
                                        Preparation preparation) throws IOException {
        NativeListener listener = open(syscalls, poller, SocketAddresses.family(address.getAddress()));
        try {
            preparation.prepare(listener);
            listener.bind(address);
            listener.listen(backlog);
            return listener;
        } catch (IOException | RuntimeException | Error e) {
            listener.close();
            throw e;
        }
    }

    /** {@return options of the listening socket; accepted sockets inherit most of them} */
    public SocketOptions options() {
        return options;
    }

    /** {@return the descriptor, for accounting} */
    public SocketDescriptor descriptor() {
        return descriptor;
    }

    /** bind(2). */
    public void bind(InetSocketAddress local) throws IOException {
        Sockets.bind(syscalls, descriptor, family, local);
    }

    /** listen(2). */
    public void listen(int backlog) throws IOException {
        int fd = descriptor.acquire();
        try {
            int result = syscalls.listen(fd, backlog);
            if (result < 0) {
                throw Errno.exception("listen", -result, null);
            }
        } finally {
            descriptor.release();
        }
    }

    /** {@return the bound address (getsockname); the port is the real one after binding port 0} */
    @Override
    public InetSocketAddress localAddress() throws IOException {
        return Sockets.localAddress(syscalls, descriptor);
    }

    /**
     * Accepts one connection, parking until one arrives, the deadline passes, the listener is
     * closed or the thread is interrupted. The new socket is non-blocking and close-on-exec
     * from birth (accept4 flags), so no other process can inherit it.
     *
     * <p>Errors of one pending connection (ECONNABORTED and the network errors accept(2) says to
     * retry, see {@link Errno#isAcceptRetryable}) are skipped and counted in
     * {@link #retriedErrors()}; they never reach the caller.
     *
     * @throws dev.tcpscope.SystemCallException e.g. EMFILE: the listener remains usable
     */
    @Override
    public NativeSocket accept(long deadline) throws IOException {
        Deadline.lock(acceptLock, deadline, "accept");
        try {
            int fd = descriptor.acquire();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment sa = arena.allocate(SocketAddresses.STORAGE_SIZE, 8);
                MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
                while (true) {
                    length.set(ValueLayout.JAVA_INT, 0, (int) SocketAddresses.STORAGE_SIZE);
                    int accepted = syscalls.accept4(fd, sa, length, NativeSocket.SOCK_NONBLOCK | NativeSocket.SOCK_CLOEXEC);
                    if (accepted >= 0) {
                        InetSocketAddress remote;
                        try {
                            remote = SocketAddresses.decode(sa);
                        } catch (RuntimeException | Error e) {
                            syscalls.close(accepted);
                            throw e;
                        }
                        return NativeSocket.accepted(syscalls, poller, accepted, family, remote);
                    }
                    int errno = -accepted;
                    if (errno == Errno.EAGAIN) {
                        descriptor.awaitReadable(deadline, "accept");
                    } else if (Errno.isAcceptRetryable(errno)) {
                        // One dequeued connection failed (accept(2), "Error handling"): try the
                        // next at once. Not parking: it may already be queued, and its edge was
                        // consumed with this one.
                        retriedErrors.increment();
                    } else if (errno != Errno.EINTR) {
                        throw Errno.exception("accept4", errno, null);
                    }
                }
            } finally {
                descriptor.release();
            }
        } finally {
            acceptLock.unlock();
        }
    }

    /** {@return how many accept4 calls failed with an error of one pending connection and were retried} */
    public long retriedErrors() {
        return retriedErrors.sum();
    }

    /** Stops listening; a thread parked in {@link #accept} wakes with ConnectionClosedException. */
    @Override
    public boolean close() {
        return descriptor.close("closed", null);
    }
}
