package dev.tcpscope.internal.portable;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.FinishResult;
import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.transport.StreamSocket;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
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

    private static final int SCRATCH_BYTES = 64 * 1024;

    /** Why our side closed the channel, for the exceptions of the calls that find it closed. */
    private record Closing(String description, Throwable reason) {}

    private final SocketChannel channel;
    private final InputStream timedInput; // the socket adaptor's stream: reads honour SO_TIMEOUT
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ChannelErrorRecord errors = new ChannelErrorRecord();
    private final AtomicReference<Closing> closing = new AtomicReference<>();
    private final WriteDeadlines.Watch writeWatch = new WriteDeadlines.Watch(this);
    private final InetSocketAddress local;
    private final InetSocketAddress remote;
    private byte[] scratch; // under readLock: for segments that are not on a byte[]
    private volatile long bytesRead;    // written under readLock only
    private volatile long bytesWritten; // written under writeLock only
    private volatile boolean finSent;

    /** Wraps a connected channel whose SO_LINGER is {1, 0} already; closes it if this fails. */
    PortableSocket(SocketChannel channel) throws IOException {
        try {
            this.channel = channel;
            this.timedInput = channel.socket().getInputStream();
            this.local = (InetSocketAddress) channel.getLocalAddress();
            this.remote = (InetSocketAddress) channel.getRemoteAddress();
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
            checkUsable("read");
            // No check of the record first: bytes that arrived before a reset are delivered before it.
            int n = 0;
            IOException thrown = null;
            errors.enter(ChannelErrorRecord.RECEIVE);
            try {
                n = readOnce(buffer, deadline);
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
                throw translate(thrown, "read");
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
                throw interrupted("read", e);
            }
            if (failure != null) {
                throw failure.exception("read", peerContext());
            }
            return -1;
        } finally {
            readLock.unlock();
        }
    }

    /** One timed read through the socket adaptor; {@return bytes read (at least 1) or -1} */
    private int readOnce(MemorySegment buffer, long deadline) throws IOException {
        int length = (int) Math.min(buffer.byteSize(), Integer.MAX_VALUE);
        channel.socket().setSoTimeout(timeoutMillis(deadline));
        if (buffer.heapBase().orElse(null) instanceof byte[] array) {
            return timedInput.read(array, (int) buffer.address(), length); // heap segment: address() is the offset
        }
        if (scratch == null) {
            scratch = new byte[SCRATCH_BYTES];
        }
        int n = timedInput.read(scratch, 0, Math.min(length, scratch.length));
        if (n > 0) {
            MemorySegment.copy(scratch, 0, buffer, ValueLayout.JAVA_BYTE, 0, n);
        }
        return n;
    }

    /** {@return SO_TIMEOUT for {@code deadline}: 0 for none, else at least 1 ms, rounded up} */
    private static int timeoutMillis(long deadline) throws SocketTimeoutException {
        if (deadline == Deadline.NONE) {
            return 0;
        }
        long nanos = Deadline.remainingNanos(deadline);
        if (nanos <= 0) {
            return 1; // passed: still take what is already there, like the native transport
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, (nanos + 999_999) / 1_000_000));
    }

    // ---------------------------------------------------------------- writing

    @Override
    public void write(MemorySegment buffer, long deadline) throws IOException {
        Objects.requireNonNull(buffer, "buffer");
        if (buffer.byteSize() == 0) {
            return;
        }
        buffer.get(ValueLayout.JAVA_BYTE, 0); // the caller's mistake is the caller's exception, before sending
        ByteBuffer bytes = buffer.asByteBuffer();
        Deadline.lock(writeLock, deadline, "write");
        try {
            if (deadline != Deadline.NONE && Deadline.remainingNanos(deadline) == 0) {
                throw new SocketTimeoutException("write timed out"); // nothing sent: not poisoned
            }
            writeWatch.arm(deadline);
            IOException failure = null;
            try {
                sendAll(bytes, deadline);
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

    /** Writes until {@code bytes} is empty; the caller holds the write lock. */
    private void sendAll(ByteBuffer bytes, long deadline) throws IOException {
        while (bytes.hasRemaining()) {
            checkUsable("write");
            throwIfFailed("write");
            int n = 0;
            IOException thrown = null;
            errors.enter(ChannelErrorRecord.SEND);
            try {
                n = channel.write(bytes);
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
            }
            if (thrown != null) {
                if (!(thrown instanceof ClosedChannelException)
                        && ChannelFailures.kind(thrown) == ChannelFailures.Kind.BROKEN_PIPE) {
                    throw brokenPipe(thrown, deadline);
                }
                throw translate(thrown, "write");
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
        return failure.exception("write", peerContext());
    }

    @Override
    public void shutdownOutput() throws IOException {
        if (finSent) {
            return;
        }
        checkUsable("shutdownOutput");
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
            throw translate(thrown, "shutdownOutput");
        }
        // The JDK ignores ENOTCONN here, so a connection already reset "shuts down" without a FIN:
        // what the record knows is reported as the native transport reports ENOTCONN. (A reset no
        // call has taken yet shows at the next read instead.)
        ChannelFailures.Failure failure = errors.settle(Deadline.NONE, "shutdownOutput");
        if (failure != null) {
            throw failure.exception("shutdownOutput", peerContext());
        }
        finSent = true;
    }

    // ---------------------------------------------------------------- errors and closing

    /** Turns an exception of a channel call into the one the public API promises. */
    private IOException translate(IOException e, String operation) {
        if (e instanceof ClosedByInterruptException) {
            if (!markClosed("aborted: a thread blocked in " + operation + " was interrupted (the JDK closes the channel)", e)) {
                return closedException(operation); // our side ended it first (an abort, then the interrupt)
            }
            Thread.currentThread().interrupt();
            InterruptedIOException interrupted = new InterruptedIOException(operation + " interrupted");
            interrupted.initCause(e);
            return interrupted;
        }
        if (e instanceof ClosedChannelException) { // AsynchronousCloseException too: another thread closed it
            return closedException(operation);
        }
        ChannelFailures.Failure failure = errors.get();
        return failure != null ? failure.exception(operation, peerContext()) : e;
    }

    private void checkUsable(String operation) throws IOException {
        if (closing.get() != null || !channel.isOpen()) {
            throw closedException(operation);
        }
        if (Thread.currentThread().isInterrupted()) {
            // The channel would close itself at once (InterruptibleChannel): refuse before touching it.
            throw interrupted(operation, null);
        }
    }

    /**
     * {@return the exception for an interrupt seen by {@code operation}} ConnectionClosedException
     * if our side closed the connection first — a scope or server aborts, then interrupts, and the
     * interrupt happens-before its detection here — as the native transport reports it; else
     * InterruptedIOException, the interrupt status kept.
     */
    private IOException interrupted(String operation, Throwable cause) {
        if (closing.get() != null) {
            return closedException(operation);
        }
        Thread.currentThread().interrupt();
        InterruptedIOException e = new InterruptedIOException(operation + " interrupted");
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    private void throwIfFailed(String operation) throws IOException {
        ChannelFailures.Failure failure = errors.get();
        if (failure != null) {
            throw failure.exception(operation, peerContext());
        }
    }

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
        ChannelFailures.Failure failure = errors.get();
        return failure == null ? null : failure.exception(operation, peerContext());
    }

    @Override
    public ConnectionClosedException closedException(String operation) {
        Closing c = closing.get();
        return c == null
                ? new ConnectionClosedException(operation + ": connection closed", null)
                : new ConnectionClosedException(operation + ": connection " + c.description(), c.reason());
    }

    @Override
    public boolean close(String description, Throwable reason) {
        boolean first = markClosed(description, reason);
        try {
            channel.close(); // SO_LINGER {1, 0} unless the graceful ending cleared it: RST; wakes blocked threads
        } catch (IOException ignored) {
            // nothing more can be done: the descriptor is released either way
        }
        return first;
    }

    /** Records why the channel is (being) closed, unless a reason is recorded already. */
    private boolean markClosed(String description, Throwable reason) {
        return closing.compareAndSet(null, new Closing(description, reason));
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
    public void setNoDelay(boolean on) throws IOException {
        option(() -> channel.setOption(StandardSocketOptions.TCP_NODELAY, on), "setNoDelay");
    }

    @Override
    public boolean noDelay() throws IOException {
        return option(() -> channel.getOption(StandardSocketOptions.TCP_NODELAY), "noDelay");
    }

    @Override
    public void setKeepAlive(boolean on) throws IOException {
        option(() -> channel.setOption(StandardSocketOptions.SO_KEEPALIVE, on), "setKeepAlive");
    }

    @Override
    public boolean keepAlive() throws IOException {
        return option(() -> channel.getOption(StandardSocketOptions.SO_KEEPALIVE), "keepAlive");
    }

    /** Sets SO_SNDBUF (for tests that need a write to park after a few KiB; not in the public API). */
    public void setSendBufferSize(int bytes) throws IOException {
        option(() -> channel.setOption(StandardSocketOptions.SO_SNDBUF, bytes), "setSendBufferSize");
    }

    @Override
    public int unread() throws IOException {
        return option(timedInput::available, "available");
    }

    /** {@return -1: the JDK exposes no count of unacknowledged bytes (SIOCOUTQ is Linux's, native only)} */
    @Override
    public long unacknowledged() {
        return -1;
    }

    private interface OptionCall<T> {
        T call() throws IOException;
    }

    private <T> T option(OptionCall<T> call, String operation) throws IOException {
        try {
            return call.call();
        } catch (ClosedChannelException e) {
            throw closedException(operation);
        }
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

    private String peerContext() {
        return "(peer " + remote + ")";
    }

    @Override
    public String toString() {
        return "PortableSocket[" + local + " -> " + remote + (closing.get() != null ? ", closed" : "") + "]";
    }
}
