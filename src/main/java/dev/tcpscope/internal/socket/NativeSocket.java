package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.internal.poll.SocketDescriptor;
import dev.tcpscope.internal.transport.StreamSocket;
import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.FinishResult;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A non-blocking TCP stream socket whose blocking operations park the calling thread (virtual or
 * platform) on the {@link Poller} instead of blocking in native code.
 *
 * <p>One reader and one writer at a time: each direction has its own lock, so a read and a
 * write can be in progress together. Every call runs between {@link SocketDescriptor#acquire()}
 * and {@link SocketDescriptor#release()}.
 *
 * <p>Linux reports a peer's reset (ECONNRESET), or any other fatal error (ETIMEDOUT after
 * TCP_USER_TIMEOUT or keep-alive expiry, EHOSTUNREACH...), once, to whichever call looks first,
 * and then reads 0 as if the peer had ended cleanly. This class remembers the first fatal error in
 * a {@link FatalErrorRecord}, and a read that gets 0 believes it is the peer's FIN only once every
 * call that could have taken the error has recorded what it saw: a read returns -1 only for a FIN,
 * whichever thread's call the kernel told.
 *
 * <p>The one exception is the kernel's: a FIN followed by a RST always reads as -1 (Linux checks
 * the FIN before the pending error; the RST then shows only on a later write, as EPIPE).
 */
public final class NativeSocket implements StreamSocket {

    static final int SOCK_STREAM = Libc.SOCK_STREAM();
    static final int SOCK_NONBLOCK = Libc.SOCK_NONBLOCK();
    static final int SOCK_CLOEXEC = Libc.SOCK_CLOEXEC();

    // Package-private: the socket's code is in several files of this package, one concern each:
    // this one (the read path among them), Connector (the handshake: connect(2), parked until
    // writable, then SO_ERROR),
    // Receiving (one recv and what its result means, and the graceful ending's reads),
    // OutputShutdown (shutdown(SHUT_WR), EPIPE, the pending error polled by the graceful ending),
    // SendLoop (send: the write path), VectoredIo (writev, readv), FileSend (sendfile) and
    // SplicePump (splice through a pipe).
    final Syscalls syscalls;
    final SocketDescriptor descriptor;
    final SocketOptions options;
    final int family;
    final ReentrantLock readLock = new ReentrantLock();
    final ReentrantLock writeLock = new ReentrantLock(); // held by writes and by the handshake
    // Written only by the holder of the direction's lock, read by any thread (a server's idle
    // check): one writer, so a volatile `+=` is exact; no AtomicLongs (two objects per connection)
    // and no atomic add.
    private volatile long bytesRead;
    private volatile long bytesWritten;
    final FatalErrorRecord errors = new FatalErrorRecord();
    volatile boolean outputShutDown; // shutdownOutput was called: an EPIPE may be ours
    volatile boolean finSent;        // shutdown(SHUT_WR) succeeded
    volatile boolean lossySends;     // sendfile or splice sent here: a reset may be lost (LostResetCheck)
    volatile InetSocketAddress remote; // set by the handshake, or at accept
    private volatile InetSocketAddress local; // cached by the first localAddress() or by close()

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
     * passes: {@link Connector#handshake}.
     *
     * @param deadline a {@link System#nanoTime()} value or {@link Deadline#NONE}
     */
    public void connect(InetSocketAddress address, long deadline) throws IOException {
        Connector.handshake(this, address, deadline);
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
    @Override
    public int read(MemorySegment buffer, long deadline) throws IOException {
        Objects.requireNonNull(buffer, "buffer");
        if (buffer.byteSize() == 0) {
            return 0;
        }
        Deadline.lock(readLock, deadline, "read");
        try {
            int fd = descriptor.acquire();
            try {
                if (Receiving.mayWaitFirst(this, deadline)) {
                    // The last recv emptied the queue and no edge has come since: a recv now
                    // would answer EAGAIN, so wait for the edge first.
                    descriptor.awaitReadable(deadline, "read");
                }
                while (true) {
                    int n = Receiving.receive(this, fd, buffer);
                    if (n > 0) {
                        if (n < Syscalls.bytesPerCall(buffer)) {
                            descriptor.noteInputDrained(); // a short read: the queue was left empty
                        }
                        return n;
                    }
                    if (n != 0) {
                        return n;
                    }
                    descriptor.awaitReadable(deadline, "read");
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
    @Override
    public void write(MemorySegment buffer, long deadline) throws IOException {
        SendLoop.write(this, buffer, deadline);
    }

    /** Counts bytes received by another file's call; the caller holds {@link #readLock}. */
    void addBytesRead(long n) {
        bytesRead += n; // the lock holder is the only writer
    }

    /** Counts bytes sent by another file's call; the caller holds {@link #writeLock}. */
    void addBytesWritten(long n) {
        bytesWritten += n; // the lock holder is the only writer
    }

    /** writev(2) of every segment in order: {@link VectoredIo#write}. */
    @Override
    public void writeGathering(MemorySegment[] buffers, long deadline) throws IOException {
        VectoredIo.write(this, buffers, deadline);
    }

    /** readv(2) into the segments in order: {@link VectoredIo#read}. */
    @Override
    public long readScattering(MemorySegment[] buffers, long deadline) throws IOException {
        return VectoredIo.read(this, buffers, deadline);
    }

    /** sendfile(2) of a file opened here: {@link FileSend#send}. */
    @Override
    public long sendFile(java.nio.file.Path file, long position, long count, long deadline) throws IOException {
        return FileSend.send(this, file, position, count, deadline);
    }

    /**
     * Moves this socket's input to {@code target} until this socket's FIN: with splice(2)
     * through a pipe ({@link SplicePump}) when {@code target} is native too, else with the copy
     * loop of {@link StreamSocket}.
     */
    @Override
    public long transferTo(StreamSocket target, java.time.Duration readTimeout, java.time.Duration writeTimeout)
            throws IOException {
        if (target instanceof NativeSocket nativeTarget) {
            return SplicePump.pump(this, nativeTarget, readTimeout, writeTimeout);
        }
        return StreamSocket.super.transferTo(target, readTimeout, writeTimeout);
    }

    /** shutdown(SHUT_WR): {@link OutputShutdown#shutdownOutput}. */
    @Override
    public void shutdownOutput() throws IOException {
        OutputShutdown.shutdownOutput(this);
    }

    /** Takes the socket's pending error into the record: {@link OutputShutdown#pollPendingError}. */
    public boolean pollPendingError() throws IOException {
        return OutputShutdown.pollPendingError(this);
    }

    /** {@return whether a fatal error (a reset, a timeout...) has been recorded} */
    @Override
    public boolean hasFailed() {
        return errors.get() != null;
    }

    /** {@return whether the recorded fatal error is a reset by the peer (ECONNRESET or EPIPE)} */
    @Override
    public boolean wasReset() {
        FatalErrorRecord.Failure failure = errors.get();
        return failure != null && (failure.errno() == Errno.ECONNRESET || failure.errno() == Errno.EPIPE);
    }

    /**
     * {@return the exception that the recorded fatal error means for {@code operation}, or null}
     * Every later operation reports the same error, as the first call did.
     */
    @Override
    public IOException failure(String operation) {
        FatalErrorRecord.Failure failure = errors.get();
        return failure == null ? null : failure.exception(operation, peerContext());
    }

    /** {@return total bytes received} */
    @Override
    public long bytesRead() {
        return bytesRead;
    }

    /** {@return total bytes handed to the kernel by send} */
    @Override
    public long bytesWritten() {
        return bytesWritten;
    }

    /**
     * {@return the local address (getsockname, asked once), also after the socket was closed}
     * {@link #close} asks for it before closing the descriptor, so a socket that was connected
     * always knows it: when getsockname fails because another thread has just closed the
     * descriptor, that close has kept the address, and it is returned.
     *
     * @throws UncheckedIOException getsockname failed on a socket that never learnt its address
     *         (not connected, or the kernel refused it: not seen on Linux)
     */
    @Override
    public InetSocketAddress localAddress() {
        InetSocketAddress address = local;
        if (address == null) {
            try {
                local = address = Sockets.localAddress(syscalls, descriptor);
            } catch (IOException e) {
                address = local; // a concurrent close(), which kept it first
                if (address == null) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return address;
    }

    /** {@return the peer's address, or {@code null} before connect} */
    @Override
    public InetSocketAddress remoteAddress() {
        return remote;
    }

    /**
     * Ends the socket: marks it closed, wakes blocked readers and writers, and (once no thread
     * uses it) closes the descriptor. What the peer sees depends on SO_LINGER at that moment.
     */
    @Override
    public boolean close(String description, Throwable reason) {
        if (local == null && remote != null) {
            try {
                localAddress(); // kept for logging after the ending: the descriptor is about to go
            } catch (UncheckedIOException alreadyClosed) {
                // another thread closed it first; its close kept the address if it could
            }
        }
        return descriptor.close(description, reason);
    }

    void throwIfFailed(String operation) throws IOException {
        FatalErrorRecord.Failure failure = errors.get();
        if (failure != null) {
            throw failure.exception(operation, peerContext());
        }
    }

    String peerContext() {
        return remote != null ? "(peer " + remote + ")" : null;
    }

    // ---------------------------------------------------------------- StreamSocket, the rest

    @Override
    public String transportName() {
        return NativeTransport.NAME;
    }

    @Override
    public ConnectionClosedException closedException(String operation) {
        return descriptor.closedException(operation);
    }

    /** {@link LingeringClose}, its outcome in the public result type. */
    @Override
    public FinishResult endGracefully(long deadline, long quietNanos) {
        return LingeringClose.run(this, deadline, quietNanos).finishResult();
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return NativeOptionMapping.SUPPORTED;
    }

    @Override
    public <T> void setOption(SocketOption<T> option, T value) throws IOException {
        NativeOptionMapping.set(options, family, option, value);
    }

    @Override
    public <T> T getOption(SocketOption<T> option) throws IOException {
        return option.type().cast(NativeOptionMapping.get(options, family, option));
    }

    @Override
    public int unread() throws IOException {
        return options.unread();
    }

    @Override
    public long unacknowledged() throws IOException {
        return options.unacknowledged();
    }

    @Override
    public String toString() {
        return "NativeSocket[" + descriptor + (remote != null ? ", peer " + remote : "") + "]";
    }
}
