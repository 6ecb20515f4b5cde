package dev.tcpscope.internal.transport;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.FinishResult;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.util.Set;

/**
 * A connected TCP socket as the public classes see it, whichever {@link Transport} made it: the
 * seam between {@code TcpConnection} (and its helpers) and the layer that talks to the operating
 * system. Nothing above this interface knows which implementation runs.
 *
 * <p>Every implementation keeps the same contract: the socket aborts by default (SO_LINGER
 * {1, 0} from its creation, so closing it sends RST) until {@link #endGracefully} has done its
 * checks; one reader and one writer may work at once; a fatal error (a peer's reset, a timeout)
 * is remembered and reported to every later call on every thread, and a read returns -1 only for
 * the peer's FIN, never for an error another call took. Deadlines are {@link System#nanoTime()}
 * values or {@link dev.tcpscope.internal.poll.Deadline#NONE}.
 */
public interface StreamSocket {

    /** {@return the name of the transport, "native" or "portable", for toString() and JFR} */
    String transportName();

    /**
     * Reads into {@code buffer}, waiting until at least one byte arrives.
     *
     * @return the number of bytes read, 0 only if {@code buffer} is empty, or -1 for the peer's FIN
     * @throws dev.tcpscope.ConnectionResetException the peer reset the connection (now or earlier)
     * @throws java.net.SocketTimeoutException the deadline passed
     * @throws java.io.InterruptedIOException the thread was interrupted (its status stays set)
     * @throws ConnectionClosedException our side closed the connection
     */
    int read(MemorySegment buffer, long deadline) throws IOException;

    /**
     * Writes all of {@code buffer}, waiting while the send buffer is full. On an exception part
     * of it may have been sent: {@link #bytesWritten()} tells how much in total.
     */
    void write(MemorySegment buffer, long deadline) throws IOException;

    /**
     * Writes every segment's bytes, in order (a gathering write: one system call can carry a
     * header and a body). On an exception part of them may have been sent:
     * {@link #bytesWritten()} tells how much in total. A segment whose memory is closed or
     * confined to another thread gets the JDK's exception before anything is sent.
     */
    void writeGathering(MemorySegment[] buffers, long deadline) throws IOException;

    /**
     * Reads into the segments in order (a scattering read), waiting until at least one byte
     * arrives; later segments are filled only after the earlier ones are full.
     *
     * <p>This default, for transports without a vectored read, reads into the first segment with
     * room, and goes on into the next ones only while bytes are already queued (no second wait).
     *
     * @return the number of bytes read, 0 only if every segment is empty, or -1 for the peer's FIN
     */
    default long readScattering(MemorySegment[] buffers, long deadline) throws IOException {
        long total = 0;
        for (MemorySegment buffer : buffers) {
            if (buffer.byteSize() == 0) {
                continue;
            }
            if (total > 0 && unread() == 0) {
                break; // nothing queued: return what we have rather than wait again
            }
            int n = read(buffer, deadline);
            if (n < 0) {
                return total > 0 ? total : -1; // the FIN is seen again by the next read
            }
            total += n;
            if (n < buffer.byteSize()) {
                break;
            }
        }
        return total;
    }

    /**
     * Sends {@code count} bytes of {@code file} from {@code position} (a negative count: up to
     * the end of the file), waiting while the send buffer is full. The file is opened and closed
     * here, on every path.
     *
     * @return the number of bytes sent
     * @throws java.nio.file.NoSuchFileException the file does not exist (nothing was sent)
     * @throws java.io.EOFException the file ended before {@code count} bytes
     */
    long sendFile(java.nio.file.Path file, long position, long count, long deadline) throws IOException;

    /**
     * Moves every byte this socket receives to {@code target} until this socket reads the peer's
     * FIN, and returns how many were moved; a reset (or any fatal error) of either socket throws.
     * Nothing is sent after the last byte: passing the FIN on is the caller's decision.
     *
     * <p>This default is a copy loop through a buffer; the native transport overrides it with
     * splice(2) when both sockets are native.
     *
     * @param readTimeout  the longest wait for input, or {@code null} for none
     * @param writeTimeout the longest wait for room in {@code target}'s send buffer, or {@code null}
     */
    default long transferTo(StreamSocket target, java.time.Duration readTimeout, java.time.Duration writeTimeout)
            throws IOException {
        return StreamCopy.copy(this, target, readTimeout, writeTimeout);
    }

    /** Sends FIN after the bytes written so far; a second call does nothing. */
    void shutdownOutput() throws IOException;

    /** {@return whether a fatal error (a reset, a timeout...) has been recorded} */
    boolean hasFailed();

    /** {@return whether the recorded fatal error is a reset by the peer} */
    boolean wasReset();

    /** {@return the exception the recorded fatal error means for {@code operation}, or null} */
    IOException failure(String operation);

    /** {@return the exception for {@code operation} attempted on, or woken by, the closed socket} */
    ConnectionClosedException closedException(String operation);

    /** {@return total bytes received} */
    long bytesRead();

    /** {@return total bytes handed to the operating system for sending} */
    long bytesWritten();

    /** {@return the local address, also after the socket was closed; never throws once connected} */
    InetSocketAddress localAddress();

    /** {@return the peer's address} */
    InetSocketAddress remoteAddress();

    /**
     * Closes the socket now; with the linger still {1, 0}, the peer gets RST. Wakes blocked
     * readers and writers (with {@link ConnectionClosedException}).
     *
     * @return whether this call closed it (false: it was closed already)
     */
    boolean close(String description, Throwable reason);

    /**
     * The graceful ending (RFC 9293 CLOSE) of a socket whose output the caller has flushed: FIN,
     * drain the peer's input until its FIN or the deadline, then close without RST if the
     * transport's conditions hold, else with RST. The socket is closed when this returns.
     *
     * @param quietNanos how long a peer may stay quiet before the wait for its FIN ends
     * @return what happened; {@link FinishResult#delivery()} says whether delivery was confirmed
     */
    FinishResult endGracefully(long deadline, long quietNanos);

    /**
     * {@return the socket options this transport can set and get on this socket} Among the
     * connection's known ones (TCP_NODELAY, SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF, IP_TOS, the
     * keep-alive timings, TCP_USER_TIMEOUT); never SO_LINGER, which the ending owns.
     */
    Set<SocketOption<?>> supportedOptions();

    /**
     * Sets {@code option}, one of {@link #supportedOptions()}, to {@code value}, which the caller
     * has checked (range, type, not null).
     */
    <T> void setOption(SocketOption<T> option, T value) throws IOException;

    /** {@return {@code option}'s value as the kernel reports it}, for one of {@link #supportedOptions()} */
    <T> T getOption(SocketOption<T> option) throws IOException;

    /** {@return received bytes not yet read} */
    int unread() throws IOException;

    /**
     * {@return bytes written and not yet acknowledged by the peer's TCP, or -1 if this transport
     * cannot tell (only Linux's SIOCOUTQ can)}
     */
    long unacknowledged() throws IOException;
}
