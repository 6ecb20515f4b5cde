package dev.tcpscope;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.transport.StreamSocket;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.SocketTimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The reading side of one {@link TcpConnection}: the bodies of its reads, its half-close
 * ({@link TcpConnection#shutdownInput()}), and its input buffer, filled by its input stream view
 * ({@link TcpConnection#inputStream()}) so that small reads ({@code read()}, a line reader's)
 * do not cost a recv each, and emptied first by every read of the connection.
 *
 * <p>The buffer belongs to the connection, not to the view: a direct read, the channel view, or
 * a new stream view after the old one was closed, takes the bytes the view had buffered before
 * asking the socket for more. So mixing the views with direct reads never skips or reorders a
 * byte (as it would with a {@code BufferedInputStream} wrapped around the connection), and the
 * meanings do not change: -1 (the peer's FIN) and a reset or other fatal error are reported only
 * once every buffered byte has been read, the bytes that arrived before the error first, as
 * without the buffer.
 *
 * <p>A read that finds the buffer empty goes straight to the socket, as before the buffer
 * existed: no lock, no copy, one frame. The fill runs under {@link #lock}, taken with the read's
 * deadline like the socket's own read lock; the count of buffered bytes is volatile so that the
 * direct path can see it without the lock.
 */
final class ConnectionInput {

    /** The size of the buffer, and the read size from which the view reads directly. */
    static final int BUFFER_SIZE = 8192;

    private final StreamSocket socket;
    private final ConnectionEnder ender;
    private volatile boolean shutDown; // shutdownInput() was called: reads return -1
    private final ReentrantLock lock = new ReentrantLock();
    private byte[] buffer;            // allocated by the first buffered read; guarded by lock
    private int position;             // guarded by lock
    private int limit;                // guarded by lock
    private volatile int buffered;    // limit - position, written under lock

    ConnectionInput(StreamSocket socket, ConnectionEnder ender) {
        this.socket = socket;
        this.ender = ender;
    }

    /** Declares that nothing more will be read ({@link TcpConnection#shutdownInput()}). */
    void shutdown() {
        shutDown = true;
    }

    /** {@return whether {@link #shutdown()} was called} */
    boolean isShutDown() {
        return shutDown;
    }

    /**
     * The body of every direct read of the connection: buffered bytes first, then the socket.
     * Called directly by the connection's read methods: one frame fewer on the stack of each
     * thread blocked reading.
     *
     * @return bytes read, or -1 for the peer's FIN (or after {@link #shutdown()})
     */
    int read(MemorySegment segment, long deadline) throws IOException {
        if (shutDown) {
            ender.throwIfEnded("read");
            return -1;
        }
        if (buffered > 0) { // bytes the stream view took from the socket come first
            int n = takeBuffered(segment, deadline);
            if (n > 0 || segment.byteSize() == 0) {
                return n;
            }
        }
        return socket.read(segment, deadline);
    }

    /** {@return the received bytes not yet read: this buffer's and the kernel's (SIOCINQ)} */
    int available() throws IOException {
        return shutDown ? 0 : buffered + socket.unread();
    }

    /** The body of {@link TcpConnection#awaitPeerEnding}: discards input until the peer's ending. */
    PeerEnding awaitPeerEnding(long deadline) throws IOException {
        MemorySegment scratch = MemorySegment.ofArray(new byte[8192]);
        discard();
        try {
            while (socket.read(scratch, deadline) >= 0) {
                // discard
            }
            return PeerEnding.FIN;
        } catch (ConnectionResetException e) {
            return PeerEnding.RST;
        } catch (SocketTimeoutException e) {
            return PeerEnding.TIMEOUT;
        }
    }

    /** {@return how many received bytes the buffer holds, not yet read} */
    int buffered() {
        return buffered;
    }

    /**
     * Moves buffered bytes into {@code target}, as many as fit.
     *
     * @return the number moved; 0 if another reader took them first (the caller then reads the
     *         socket) or {@code target} is empty
     */
    int takeBuffered(MemorySegment target, long deadline) throws IOException {
        Deadline.lock(lock, deadline, "read");
        try {
            int n = (int) Math.min(target.byteSize(), limit - position);
            if (n > 0) {
                MemorySegment.copy(MemorySegment.ofArray(buffer), position, target, 0, n);
                consumed(n);
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The stream view's read: from the buffer; when it is empty, one recv fills it (or, for a
     * read of at least {@link #BUFFER_SIZE} bytes, goes directly into {@code bytes}).
     *
     * @return bytes read, or -1 for the peer's FIN (only once the buffer is empty) or after
     *         {@link #shutdown()}
     */
    int readBuffered(byte[] bytes, int offset, int length, long deadline) throws IOException {
        if (shutDown) {
            ender.throwIfEnded("read");
            return -1;
        }
        Deadline.lock(lock, deadline, "read");
        try {
            if (position == limit) {
                if (length >= BUFFER_SIZE) {
                    return socket.read(MemorySegment.ofArray(bytes).asSlice(offset, length), deadline);
                }
                if (buffer == null) {
                    buffer = new byte[BUFFER_SIZE];
                }
                int n = socket.read(MemorySegment.ofArray(buffer), deadline);
                if (n <= 0) {
                    return n; // -1: the peer's FIN; an error was thrown, leaving the buffer empty
                }
                position = 0;
                limit = n;
                buffered = n;
            }
            int n = Math.min(length, limit - position);
            System.arraycopy(buffer, position, bytes, offset, n);
            consumed(n);
            return n;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Drops what the buffer holds ({@code awaitPeerEnding} discards the input). If another thread
     * is reading through the buffer (it holds the lock), the bytes are left to it.
     */
    void discard() {
        if (buffered > 0 && lock.tryLock()) {
            try {
                consumed(limit - position);
            } finally {
                lock.unlock();
            }
        }
    }

    private void consumed(int n) {
        position += n;
        buffered = limit - position;
    }
}
