package dev.tcpscope.internal.socket;

import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.SocketAddresses;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.internal.poll.Readiness;
import dev.tcpscope.internal.poll.SocketDescriptor;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A non-blocking TCP stream socket whose blocking operations park the calling thread (virtual or
 * platform) on the {@link Poller} instead of blocking in native code.
 *
 * <p>One reader and one writer at a time: each direction has its own lock, so a read and a
 * write can be in progress together. Every call runs between {@link SocketDescriptor#acquire()}
 * and {@link SocketDescriptor#release()}.
 *
 * <p>Linux reports a peer's reset (ECONNRESET) once and then reads 0 as if the peer had ended
 * cleanly; this class remembers the reset so that every later read and write reports it again.
 */
public final class NativeSocket {

    static final int SOCK_STREAM = Libc.SOCK_STREAM();
    static final int SOCK_NONBLOCK = Libc.SOCK_NONBLOCK();
    static final int SOCK_CLOEXEC = Libc.SOCK_CLOEXEC();
    private static final int SHUT_WR = Libc.SHUT_WR();

    private final Syscalls syscalls;
    private final SocketDescriptor descriptor;
    private final SocketOptions options;
    private final int family;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final AtomicLong bytesRead = new AtomicLong();
    private final AtomicLong bytesWritten = new AtomicLong();
    private volatile String resetBy;
    private volatile boolean outputShutDown;
    private volatile InetSocketAddress remote;

    private NativeSocket(Syscalls syscalls, SocketDescriptor descriptor, int family, InetSocketAddress remote) {
        this.syscalls = syscalls;
        this.descriptor = descriptor;
        this.options = new SocketOptions(syscalls, descriptor);
        this.family = family;
        this.remote = remote;
    }

    /** Creates an unconnected non-blocking, close-on-exec TCP socket of {@code family}. */
    public static NativeSocket open(Syscalls syscalls, Poller poller, int family) throws IOException {
        int fd = syscalls.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw Errno.exception("socket", -fd, null);
        }
        return new NativeSocket(syscalls, SocketDescriptor.adopt(fd, syscalls, poller), family, null);
    }

    /** Wraps a descriptor returned by accept4 (already non-blocking and close-on-exec). */
    static NativeSocket accepted(Syscalls syscalls, Poller poller, int fd, int family, InetSocketAddress remote)
            throws IOException {
        return new NativeSocket(syscalls, SocketDescriptor.adopt(fd, syscalls, poller), family, remote);
    }

    /** {@return the descriptor, for closing and accounting} */
    public SocketDescriptor descriptor() {
        return descriptor;
    }

    /** {@return socket options and queue sizes of this socket} */
    public SocketOptions options() {
        return options;
    }

    /** {@return AF_INET or AF_INET6} */
    public int family() {
        return family;
    }

    /** Binds the socket to a local address before {@link #connect}. */
    public void bind(InetSocketAddress local) throws IOException {
        Sockets.bind(syscalls, descriptor, family, local);
    }

    /**
     * Connects to {@code address}, parking until the handshake completes, fails or the deadline
     * passes (non-blocking connect: EINPROGRESS, wait until writable, then SO_ERROR).
     *
     * @param deadline a {@link System#nanoTime()} value or {@link Readiness#NO_DEADLINE}
     */
    public void connect(InetSocketAddress address, long deadline) throws IOException {
        String what = "connect to " + address;
        lock(writeLock, deadline, what);
        try {
            int fd = descriptor.acquire();
            try {
                int result;
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment sa = SocketAddresses.encode(address, family, arena);
                    result = syscalls.connect(fd, sa, (int) sa.byteSize());
                }
                // EINTR on connect does not stop the handshake, which goes on in the kernel:
                // wait for it as for EINPROGRESS (retrying connect would fail with EALREADY).
                if (result < 0 && result != -Errno.EINPROGRESS && result != -Errno.EINTR) {
                    throw Errno.exception("connect", -result, "to " + address);
                }
                while (result < 0 && !isConnected(fd)) {
                    descriptor.awaitWritable(deadline, what);
                    int error = options.getInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_ERROR);
                    if (error == Errno.ECONNRESET || error == Errno.EPIPE) {
                        // The handshake completed and the peer reset right after (on loopback it
                        // can even have sent data first): connected, and the reset is reported by
                        // reads after the bytes that arrived, like any other reset.
                        rememberReset("connect");
                        break;
                    }
                    if (error != 0) {
                        throw Errno.exception("connect", error, "to " + address);
                    }
                }
                remote = address;
            } finally {
                descriptor.release();
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** Writable readiness can be stale (it is edge-triggered, registered before connect): ask the kernel. */
    private boolean isConnected(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocate(SocketAddresses.STORAGE_SIZE, 8);
            MemorySegment length = arena.allocateFrom(ValueLayout.JAVA_INT, (int) SocketAddresses.STORAGE_SIZE);
            return syscalls.getpeername(fd, sa, length) == 0;
        }
    }

    /**
     * Reads into {@code buffer} (heap or native), parking until at least one byte arrives.
     *
     * @return the number of bytes read, 0 only if {@code buffer} is empty, or -1 when the peer
     *         ended its side with FIN
     * @throws ConnectionResetException the peer reset the connection (now or earlier)
     * @throws java.net.SocketTimeoutException the deadline passed
     * @throws InterruptedIOException the thread was interrupted (its status stays set)
     * @throws dev.tcpscope.ConnectionClosedException our side closed the connection
     */
    public int read(MemorySegment buffer, long deadline) throws IOException {
        Objects.requireNonNull(buffer, "buffer");
        if (buffer.byteSize() == 0) {
            return 0;
        }
        lock(readLock, deadline, "read");
        try {
            int fd = descriptor.acquire();
            try {
                while (true) {
                    // No check for a remembered reset first: bytes that arrived before the reset
                    // are still queued and are delivered before it is reported.
                    long n = syscalls.recv(fd, buffer);
                    if (n > 0) {
                        bytesRead.addAndGet(n);
                        return (int) n;
                    }
                    if (n == 0) {
                        // Linux reads 0 after it has reported a reset once: not a FIN then.
                        throwIfReset("read");
                        return -1;
                    }
                    int errno = (int) -n;
                    if (errno == Errno.EAGAIN) {
                        descriptor.awaitReadable(deadline, "read");
                    } else if (errno != Errno.EINTR) {
                        throw failure("recv", errno);
                    }
                }
            } finally {
                descriptor.release();
            }
        } finally {
            readLock.unlock();
        }
    }

    /**
     * Writes all of {@code buffer} (heap or native), parking whenever the send buffer is full.
     * On an exception part of the buffer may have been sent: {@link #bytesWritten()} tells how
     * much in total.
     */
    public void write(MemorySegment buffer, long deadline) throws IOException {
        Objects.requireNonNull(buffer, "buffer");
        lock(writeLock, deadline, "write");
        try {
            int fd = descriptor.acquire();
            try {
                long offset = 0;
                long size = buffer.byteSize();
                while (offset < size) {
                    throwIfReset("write");
                    long n = syscalls.send(fd, offset == 0 ? buffer : buffer.asSlice(offset));
                    if (n >= 0) {
                        offset += n;
                        bytesWritten.addAndGet(n);
                        continue;
                    }
                    int errno = (int) -n;
                    if (errno == Errno.EAGAIN) {
                        descriptor.awaitWritable(deadline, "write");
                    } else if (errno != Errno.EINTR) {
                        throw failure("send", errno);
                    }
                }
            } finally {
                descriptor.release();
            }
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * shutdown(SHUT_WR): sends FIN after the queued bytes. (SHUT_RD is never used: its effect
     * differs between operating systems; the connection layer gives input shutdown one meaning.)
     */
    public void shutdownOutput() throws IOException {
        outputShutDown = true;
        int fd = descriptor.acquire();
        try {
            int result = syscalls.shutdown(fd, SHUT_WR);
            if (result < 0 && result != -Errno.ENOTCONN) {
                throw failure("shutdown(SHUT_WR)", -result);
            }
        } finally {
            descriptor.release();
        }
    }

    /** {@return whether a reset by the peer has been seen} */
    public boolean wasReset() {
        return resetBy != null;
    }

    /** {@return total bytes received} */
    public long bytesRead() {
        return bytesRead.get();
    }

    /** {@return total bytes handed to the kernel by send} */
    public long bytesWritten() {
        return bytesWritten.get();
    }

    /** {@return the local address (getsockname)} */
    public InetSocketAddress localAddress() throws IOException {
        return Sockets.localAddress(syscalls, descriptor);
    }

    /** {@return the peer's address, or {@code null} before connect} */
    public InetSocketAddress remoteAddress() {
        return remote;
    }

    /**
     * Ends the socket: marks it closed, wakes blocked readers and writers, and (once no thread
     * uses it) closes the descriptor. What the peer sees depends on SO_LINGER at that moment.
     */
    public boolean close(String description, Throwable reason) {
        return descriptor.close(description, reason);
    }

    private void throwIfReset(String operation) throws ConnectionResetException {
        String firstSeen = resetBy;
        if (firstSeen != null) {
            throw new ConnectionResetException(operation + ": connection reset by peer (reported by " + firstSeen + ")");
        }
    }

    private void rememberReset(String call) {
        if (resetBy == null) {
            resetBy = call;
        }
    }

    private IOException failure(String call, int errno) {
        if (errno == Errno.EPIPE && outputShutDown && resetBy == null) {
            return new dev.tcpscope.ConnectionClosedException(call + ": output was shut down", null);
        }
        if (errno == Errno.ECONNRESET || errno == Errno.EPIPE) {
            // EPIPE: the reset was reported earlier (maybe to SO_ERROR or the other direction).
            rememberReset(call);
        }
        return Errno.exception(call, errno, remote != null ? "(peer " + remote + ")" : null);
    }

    /** Takes a direction's lock, giving up at the deadline or on interrupt like the operation would. */
    static void lock(ReentrantLock lock, long deadline, String operation) throws IOException {
        if (deadline == Readiness.NO_DEADLINE) {
            lockInterruptibly(lock, operation);
            return;
        }
        try {
            if (!lock.tryLock(Math.max(0, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS)) {
                throw new java.net.SocketTimeoutException(operation + " timed out waiting for another " + operation);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(operation + " interrupted while waiting for another " + operation);
        }
    }

    static void lockInterruptibly(ReentrantLock lock, String operation) throws InterruptedIOException {
        try {
            lock.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(operation + " interrupted while waiting for another " + operation);
        }
    }

    @Override
    public String toString() {
        return "NativeSocket[" + descriptor + (remote != null ? ", peer " + remote : "") + "]";
    }
}
