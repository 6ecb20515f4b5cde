package dev.tcpscope.internal.portable;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.FinishResult;
import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.transport.FileCopy;
import dev.tcpscope.internal.transport.StreamSocket;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A connected socket on a JDK {@link SocketChannel} in blocking mode (virtual threads park in the
 * JDK's poller; platform threads block): the portable transport's {@link StreamSocket}.
 *
 * <p><b>Abort by default.</b> SO_LINGER {1, 0} is set through {@code setOption} before connect,
 * and right after accept on accepted channels ({@link PortableListener}); closing sends RST until
 * the graceful ending clears it.
 *
 * <p><b>Deadlines.</b> A blocking channel read has no timeout, but the channel's socket adaptor
 * reads with SO_TIMEOUT (the JDK parks for at most that long and throws
 * {@link SocketTimeoutException}, the channel staying usable): every read goes through it. A
 * blocking write has no timeout at all, and the only way to stop one is to close the channel: a
 * write with a deadline arms a timer ({@link WriteDeadlines}) that aborts the connection (RST) if
 * the write is still under way at the deadline; the write then throws
 * {@link SocketTimeoutException}, and the connection is closed — the native transport keeps it
 * open (poisoned if part of the write went out), here every later call reports it closed.
 *
 * <p><b>Interrupts.</b> The JDK closes a channel whose blocked thread is interrupted (the
 * {@code InterruptibleChannel} contract), so an interrupt of a thread blocked here aborts the
 * connection (RST); the thread gets {@link InterruptedIOException} with its status set, as on the
 * native transport, which leaves the connection open. A thread already interrupted when it calls
 * gets {@link InterruptedIOException} before the channel is touched, so that nothing is closed.
 *
 * <p><b>Remembered errors</b>: {@link ChannelErrorRecord}; a read returns -1 only for a FIN.
 */
public final class PortableSocket implements StreamSocket {

    /** The name shown by {@code toString()} and JFR. */
    public static final String TRANSPORT = "portable";

    private final SocketChannel channel;
    private final TimedChannelInput input; // reads through the socket adaptor: they honour SO_TIMEOUT
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ChannelErrorRecord errors = new ChannelErrorRecord();
    private final ChannelExceptions exceptions; // what each call throws; why our side closed it
    private final WriteDeadlines.Watch writeWatch = new WriteDeadlines.Watch(this);
    private final InetSocketAddress local;
    private final InetSocketAddress remote;
    private volatile long bytesRead;    // written under readLock only
    private volatile long bytesWritten; // written under writeLock only
    private volatile boolean finSent;

    /** Wraps a connected channel whose SO_LINGER is {1, 0} already; closes it if this fails. */
    PortableSocket(SocketChannel channel) throws IOException {
        try {
            this.channel = channel;
            this.input = new TimedChannelInput(channel);
            this.local = (InetSocketAddress) channel.getLocalAddress();
            this.remote = (InetSocketAddress) channel.getRemoteAddress();
            this.exceptions = new ChannelExceptions(channel, errors, remote);
        } catch (IOException | RuntimeException | Error e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public String transportName() {
        return TRANSPORT;
    }

    // ---------------------------------------------------------------- reading

    @Override
    public int read(MemorySegment buffer, long deadline) throws IOException {
        Objects.requireNonNull(buffer, "buffer");
        if (buffer.byteSize() == 0) {
            return 0;
        }
        buffer.get(ValueLayout.JAVA_BYTE, 0); // a closed arena or another thread's segment: the caller's exception, before any byte is taken
        Deadline.lock(readLock, deadline, "read");
        try {
            exceptions.checkUsable("read");
            // No check of the record first: bytes that arrived before a reset are delivered before it.
            int n = 0;
            IOException thrown = null;
            errors.enter(ChannelErrorRecord.RECEIVE);
            try {
                n = input.readOnce(buffer, deadline);
            } catch (SocketTimeoutException e) {
                throw e; // not an error of the connection
            } catch (IOException e) {
                thrown = e;
                if (!(e instanceof ClosedChannelException)) {
                    errors.record(new ChannelFailures.Failure(ChannelFailures.kind(e), e.getMessage(), "read"));
                }
            } finally {
                errors.exit(ChannelErrorRecord.RECEIVE);
            }
            if (thrown != null) {
                throw exceptions.translate(thrown, "read");
            }
            if (n > 0) {
                bytesRead += n;
                return n;
            }
            // -1: the peer's FIN, or an error another call took. Only the settled record can tell.
            ChannelFailures.Failure failure;
            try {
                failure = errors.settle(deadline, "read");
            } catch (InterruptedIOException e) {
                throw exceptions.interrupted("read", e);
            }
            if (failure != null) {
                throw failure.exception("read", exceptions.peerContext());
            }
            return -1;
        } finally {
            readLock.unlock();
        }
    }

    // ---------------------------------------------------------------- writing

    @Override
    public void write(MemorySegment buffer, long deadline) throws IOException {
        writeGathering(new MemorySegment[] {Objects.requireNonNull(buffer, "buffer")}, deadline);
    }

    /** A gathering write: {@link SocketChannel#write(ByteBuffer[])} until every segment is sent. */
    @Override
    public void writeGathering(MemorySegment[] buffers, long deadline) throws IOException {
        ByteBuffer[] bytes = new ByteBuffer[buffers.length];
        long total = 0;
        for (int i = 0; i < buffers.length; i++) {
            MemorySegment buffer = Objects.requireNonNull(buffers[i], "buffer");
            if (buffer.byteSize() > 0) {
                buffer.get(ValueLayout.JAVA_BYTE, 0); // the caller's mistake is the caller's exception, before sending
            }
            bytes[i] = buffer.asByteBuffer();
            total += buffer.byteSize();
        }
        if (total == 0) {
            return;
        }
        Deadline.lock(writeLock, deadline, "write");
        try {
            if (deadline != Deadline.NONE && Deadline.remainingNanos(deadline) == 0) {
                throw new SocketTimeoutException("write timed out"); // nothing sent: not poisoned
            }
            writeWatch.arm(deadline);
            IOException failure = null;
            try {
                sendAll(bytes, total, deadline);
            } catch (IOException e) {
                failure = e;
            } finally {
                if (writeWatch.disarm() && (failure == null || failure instanceof ConnectionClosedException)) {
                    // The timer aborted the connection: the write ended (or would have) on a closed channel.
                    failure = new SocketTimeoutException("write timed out: the connection was aborted (RST), the"
                            + " portable transport's only way to stop a blocked write");
                }
            }
            if (failure != null) {
                throw failure;
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** sendFile: {@link FileCopy} (why not {@code FileChannel.transferTo}: see there). */
    @Override
    public long sendFile(java.nio.file.Path file, long position, long count, long deadline) throws IOException {
        return FileCopy.send(this, file, position, count, deadline);
    }

    /** Writes until the {@code total} bytes of {@code bytes} are sent; the caller holds the write lock. */
    private void sendAll(ByteBuffer[] bytes, long total, long deadline) throws IOException {
        long left = total;
        while (left > 0) {
            exceptions.checkUsable("write");
            exceptions.throwIfFailed("write");
            long n = 0;
            IOException thrown = null;
            errors.enter(ChannelErrorRecord.SEND);
            try {
                // One buffer: the JDK's single write, as before gathering writes existed (write0, not writev0).
                n = bytes.length == 1 ? channel.write(bytes[0]) : channel.write(bytes);
            } catch (IOException e) {
                thrown = e;
                ChannelFailures.Kind kind = ChannelFailures.kind(e);
                // Broken pipe is recorded only after settling: it often means the error went elsewhere.
                if (!(e instanceof ClosedChannelException) && kind != ChannelFailures.Kind.BROKEN_PIPE) {
                    errors.record(new ChannelFailures.Failure(kind, e.getMessage(), "write"));
                }
            } finally {
                errors.exit(ChannelErrorRecord.SEND);
            }
            if (n > 0) {
                bytesWritten += n;
                left -= n;
            }
            if (thrown != null) {
                if (!(thrown instanceof ClosedChannelException)
                        && ChannelFailures.kind(thrown) == ChannelFailures.Kind.BROKEN_PIPE) {
                    throw brokenPipe(thrown, deadline);
                }
                throw exceptions.translate(thrown, "write");
            }
        }
    }

    /** The write saw "Broken pipe": a reset another call took, our shutdown, or a RST after the peer's FIN. */
    private IOException brokenPipe(IOException e, long deadline) throws InterruptedIOException {
        ChannelFailures.Failure failure = errors.settle(deadline, "write");
        if (failure == null && finSent) {
            return new ConnectionClosedException("write: output was shut down", null);
        }
        if (failure == null) {
            errors.record(new ChannelFailures.Failure(ChannelFailures.Kind.BROKEN_PIPE, e.getMessage(), "write"));
            failure = errors.get();
        }
        return failure.exception("write", exceptions.peerContext());
    }

    @Override
    public void shutdownOutput() throws IOException {
        if (finSent) {
            return;
        }
        exceptions.checkUsable("shutdownOutput");
        IOException thrown = null;
        synchronized (errors.controlLock()) {
            errors.enter(ChannelErrorRecord.CONTROL);
            try {
                channel.shutdownOutput();
            } catch (IOException e) {
                thrown = e;
                if (!(e instanceof ClosedChannelException)) {
                    errors.record(new ChannelFailures.Failure(ChannelFailures.kind(e), e.getMessage(), "shutdownOutput"));
                }
            } finally {
                errors.exit(ChannelErrorRecord.CONTROL);
            }
        }
        if (thrown != null) {
            throw exceptions.translate(thrown, "shutdownOutput");
        }
        // The JDK ignores ENOTCONN here, so a connection already reset "shuts down" without a FIN:
        // what the record knows is reported as the native transport reports ENOTCONN. (A reset no
        // call has taken yet shows at the next read instead.)
        ChannelFailures.Failure failure = errors.settle(Deadline.NONE, "shutdownOutput");
        if (failure != null) {
            throw failure.exception("shutdownOutput", exceptions.peerContext());
        }
        finSent = true;
    }

    // ---------------------------------------------------------------- errors and closing

    @Override
    public boolean hasFailed() {
        return errors.get() != null;
    }

    @Override
    public boolean wasReset() {
        ChannelFailures.Failure failure = errors.get();
        return failure != null && (failure.kind() == ChannelFailures.Kind.RESET
                || failure.kind() == ChannelFailures.Kind.BROKEN_PIPE);
    }

    @Override
    public IOException failure(String operation) {
        return exceptions.failure(operation);
    }

    @Override
    public ConnectionClosedException closedException(String operation) {
        return exceptions.closedException(operation);
    }

    @Override
    public boolean close(String description, Throwable reason) {
        boolean first = exceptions.markClosed(description, reason);
        try {
            channel.close(); // SO_LINGER {1, 0} unless the graceful ending cleared it: RST; wakes blocked threads
        } catch (IOException ignored) {
            // nothing more can be done: the descriptor is released either way
        }
        return first;
    }

    /** Clears SO_LINGER, so that the close that follows sends FIN (the graceful ending only). */
    void clearLinger() throws IOException {
        channel.setOption(StandardSocketOptions.SO_LINGER, -1);
    }

    @Override
    public FinishResult endGracefully(long deadline, long quietNanos) {
        return PortableLingeringClose.run(this, deadline, quietNanos);
    }

    // ---------------------------------------------------------------- options and counters

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return PortableOptions.supported(channel);
    }

    @Override
    public <T> void setOption(SocketOption<T> option, T value) throws IOException {
        exceptions.option(() -> channel.setOption(option, value), "setOption(" + option.name() + ")");
    }

    /** The kernel's value, as on the native transport: see {@link PortableOptions#kernelValue}. */
    @Override
    public <T> T getOption(SocketOption<T> option) throws IOException {
        T value = exceptions.option(() -> channel.getOption(option), "getOption(" + option.name() + ")");
        return PortableOptions.kernelValue(option, value);
    }

    /** Sets SO_SNDBUF (for tests that need a write to park after a few KiB; not in the public API). */
    public void setSendBufferSize(int bytes) throws IOException {
        exceptions.option(() -> channel.setOption(StandardSocketOptions.SO_SNDBUF, bytes), "setSendBufferSize");
    }

    @Override
    public int unread() throws IOException {
        return exceptions.option(input::available, "available");
    }

    /** {@return -1: the JDK exposes no count of unacknowledged bytes (SIOCOUTQ is Linux's, native only)} */
    @Override
    public long unacknowledged() {
        return -1;
    }

    @Override
    public long bytesRead() {
        return bytesRead;
    }

    @Override
    public long bytesWritten() {
        return bytesWritten;
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return remote;
    }

    @Override
    public String toString() {
        return "PortableSocket[" + local + " -> " + remote + (exceptions.closedByUs() ? ", closed" : "") + "]";
    }
}
