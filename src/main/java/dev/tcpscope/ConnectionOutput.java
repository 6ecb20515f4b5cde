package dev.tcpscope;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.transport.StreamSocket;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The sending side of a {@link TcpConnection}: one writer at a time, the output stream view's
 * buffer, the half-close, and poisoning.
 *
 * <p><b>Poisoning.</b> A write that fails, times out or is interrupted after the kernel took part
 * of its bytes leaves the peer with a prefix of the message. From then on only an abort is
 * truthful: later writes throw, and a graceful ending aborts instead. A later write reports the
 * fatal error the socket recorded (a reset stays a {@link ConnectionResetException}), or else that
 * the connection is poisoned. A write that fails before the kernel took any of its bytes does not
 * poison: the peer holds exactly the earlier writes, as if it had not been made — above all a
 * caller's mistake such as a segment whose arena is closed ({@link IllegalStateException}) or a
 * confined segment of another thread ({@link WrongThreadException}). Bytes the stream view had
 * buffered stay buffered when their flush sends none of them: the writes that buffered them
 * returned normally, so dropping them would lose data silently.
 *
 * <p>Every method that sends holds {@link #lock}; the ending takes it too, so that it never
 * interleaves FIN with a write in progress.
 */
final class ConnectionOutput {

    private static final int BUFFER_SIZE = 8192;

    private final StreamSocket socket;
    private final ConnectionEnder ender;
    private final TcpConnection connection; // for the scope's bookkeeping of who wrote to it
    private final ReentrantLock lock = new ReentrantLock();
    private byte[] pending;       // guarded by lock; made by the first buffered write
    private int pendingCount;     // guarded by lock
    private volatile boolean pumping; // set while a pump (transferTo) holds the lock: see discard()
    private volatile Throwable poison;
    private volatile boolean shutDown;

    ConnectionOutput(StreamSocket socket, ConnectionEnder ender, TcpConnection connection) {
        this.socket = socket;
        this.ender = ender;
        this.connection = connection;
    }

    /** Sends anything buffered, then all of {@code segment}. */
    void write(MemorySegment segment, long deadline) throws IOException {
        lock.lock();
        try {
            checkWritable("write");
            flushPending(deadline);
            send(segment, deadline);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sends the buffer's remaining bytes and advances its position by what the kernel took,
     * also when the write fails part-way (then an {@link InterruptedIOException} also carries it
     * in {@code bytesTransferred}).
     */
    void write(ByteBuffer buffer, long deadline) throws IOException {
        lock.lock();
        try {
            checkWritable("write");
            flushPending(deadline);
            int start = buffer.position();
            long before = socket.bytesWritten(); // only the holder of `lock` sends: the difference is ours
            try {
                send(MemorySegment.ofBuffer(buffer), deadline);
            } finally {
                buffer.position(start + (int) (socket.bytesWritten() - before));
            }
        } finally {
            lock.unlock();
        }
    }

    /** One sending call of {@link ConnectionTransfers} (gathering write, file, pump). */
    interface Sending {
        /** Sends; the socket counts the bytes ({@link StreamSocket#bytesWritten()}). */
        long send() throws IOException;
    }

    /**
     * Sends anything buffered, then runs {@code sending} under the lock, with the checks and the
     * poisoning of every other write: a failure after the kernel took some of its bytes poisons.
     */
    long send(Sending sending, String operation, long deadline) throws IOException {
        return send(sending, operation, deadline, false);
    }

    /**
     * {@link #send(Sending, String, long)} for a pump, which holds the lock while it waits on
     * another connection: an abort does not wait for it ({@link #discard}).
     */
    long pump(Sending sending, String operation, long deadline) throws IOException {
        return send(sending, operation, deadline, true);
    }

    private long send(Sending sending, String operation, long deadline, boolean pump) throws IOException {
        lock.lock();
        pumping = pump;
        try {
            checkWritable(operation);
            flushPending(deadline);
            ScopeBranch.noteWrite(connection);
            long before = socket.bytesWritten(); // only the holder of `lock` sends: the difference is ours
            try {
                return sending.send();
            } catch (IOException | RuntimeException | Error e) {
                failedAfter(before, e);
                throw e;
            }
        } finally {
            pumping = false;
            lock.unlock();
        }
    }

    /** Buffers bytes for the output stream view, sending when the buffer fills. */
    void writeBuffered(byte[] bytes, int offset, int length, long deadline) throws IOException {
        lock.lock();
        try {
            checkWritable("write");
            if (pending == null) {
                pending = new byte[BUFFER_SIZE]; // only connections that use the stream view pay for it
            }
            if (length >= pending.length - pendingCount) {
                flushPending(deadline);
                if (length >= pending.length) {
                    send(MemorySegment.ofArray(bytes).asSlice(offset, length), deadline);
                    return;
                }
            }
            System.arraycopy(bytes, offset, pending, pendingCount, length);
            pendingCount += length;
        } finally {
            lock.unlock();
        }
    }

    /** Sends what the output stream view has buffered. */
    void flush(long deadline) throws IOException {
        lock.lock();
        try {
            if (pendingCount > 0) {
                checkWritable("flush");
                flushPending(deadline);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Flushes, then sends FIN; writes afterwards throw. */
    void shutdown(long deadline) throws IOException {
        lock.lock();
        try {
            checkWritable("shutdownOutput");
            flushPending(deadline);
            shutDown = true;
            socket.shutdownOutput();
        } finally {
            lock.unlock();
        }
    }

    boolean isShutDown() {
        return shutDown;
    }

    Throwable poison() {
        return poison;
    }

    // ---------------------------------------------------------------- for the ending

    /**
     * Takes the lock for the ending, waiting for a write in progress only until {@code deadline}
     * (a write towards a peer that does not read never completes).
     *
     * @return whether the lock is held
     */
    boolean lockForEnding(long deadline) throws InterruptedException {
        if (deadline == Deadline.NONE) {
            lock.lockInterruptibly();
            return true;
        }
        return lock.tryLock(Deadline.remainingNanos(deadline), TimeUnit.NANOSECONDS);
    }

    /** Sends what is buffered; the caller holds the lock (from {@link #lockForEnding}). */
    void flushForEnding(long deadline) throws IOException {
        flushPending(deadline);
    }

    void unlock() {
        lock.unlock();
    }

    /**
     * Drops what is buffered: the connection was aborted. Called after the socket was closed, and
     * before the ending is recorded.
     *
     * <p>Waits for the lock while an ordinary writer holds it: a writer parked in this socket
     * holds it until the close wakes it, and once it gives it back its bytes are counted, so the
     * ending records every byte the kernel took (the ending oracle found endings recorded with
     * "written 0" while the peer had read a writer's 200 bytes, when this did not wait). But a
     * pump ({@link TcpConnection#transferTo}) holds this connection's output lock while it waits
     * for its <em>source</em> to be readable, which this close does not wake: an abort that waited
     * for it would never finish, and a scope aborting its connections one after the other would
     * never reach the source's (seen in RelayTest: the session hung). So while a pump holds the
     * lock, this gives up: the buffer is left as it is (nothing can send it after the ending,
     * {@link #checkWritable} throws first), and the pump's last bytes may be missing from the
     * count. Checked every millisecond, since a pump may take the lock after this began waiting.
     */
    void discard() {
        boolean interrupted = Thread.interrupted(); // an abort from an interrupted thread still waits
        try {
            while (true) {
                try {
                    if (lock.tryLock(1, TimeUnit.MILLISECONDS)) {
                        try {
                            pendingCount = 0;
                        } finally {
                            lock.unlock();
                        }
                        return;
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                    continue;
                }
                if (pumping) {
                    return;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---------------------------------------------------------------- internals (lock held)

    private void flushPending(long deadline) throws IOException {
        if (pendingCount > 0) {
            int n = pendingCount;
            pendingCount = 0;
            long before = socket.bytesWritten();
            try {
                send(MemorySegment.ofArray(pending).asSlice(0, n), deadline);
            } catch (IOException | RuntimeException | Error e) {
                if (socket.bytesWritten() == before) {
                    pendingCount = n; // none of them went out: still buffered (see the class comment)
                }
                throw e;
            }
        }
    }

    /** Sends, and poisons the connection if it fails after the kernel took some of the bytes. */
    private void send(MemorySegment segment, long deadline) throws IOException {
        if (segment.byteSize() == 0) {
            return;
        }
        // Which scope branch wrote here: the scope aborts the connection if that work fails.
        ScopeBranch.noteWrite(connection);
        long before = socket.bytesWritten(); // only the holder of `lock` sends: the difference is ours
        try {
            socket.write(segment, deadline);
        } catch (IOException | RuntimeException | Error e) {
            failedAfter(before, e);
            throw e;
        }
    }

    /**
     * A send failed with {@code e} when the socket had counted {@code before} bytes: if the
     * kernel took some of them, the stream is broken mid-message and the connection is poisoned
     * (only abort remains); a timeout or interrupt says how many went out. Lock held.
     */
    private void failedAfter(long before, Throwable e) {
        long sent = socket.bytesWritten() - before;
        if (sent > 0) {
            poison = e;
        }
        if (e instanceof InterruptedIOException interrupted) {
            interrupted.bytesTransferred = (int) Math.min(Integer.MAX_VALUE, sent);
        }
    }

    private void checkWritable(String operation) throws IOException {
        ender.throwIfEnded(operation);
        Throwable p = poison;
        if (p != null) {
            IOException failure = socket.failure(operation);
            if (failure != null) {
                throw failure; // e.g. still a reset, however many writes ago the peer sent it
            }
            throw new ConnectionClosedException(operation + ": connection is poisoned by an earlier failed write"
                    + " (only abort() remains)", p);
        }
        if (shutDown) {
            throw new ConnectionClosedException(operation + ": output was shut down", null);
        }
    }
}
