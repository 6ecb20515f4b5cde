package dev.tcpscope;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.tls.TlsSocket;
import dev.tcpscope.internal.tls.TlsSockets;
import dev.tcpscope.internal.transport.StreamSocket;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * A TCP connection whose ending tells the peer the truth: {@link #finish()} ends it gracefully
 * (FIN, after every byte was acknowledged), and every other way out aborts it (RST).
 *
 * <p><b>Abort is the default.</b> From its creation the socket carries SO_LINGER {1, 0}, so that
 * an exception, a deadline, {@code System.exit}, {@code kill -9} or a crash all reach the peer as
 * a reset, never as a clean end it could mistake for a complete response. {@link #close()}, which
 * try-with-resources calls while an exception propagates, therefore aborts a connection that was
 * not finished, like a transaction rolled back:
 *
 * {@snippet :
 * try (TcpConnection conn = TcpConnection.connect(new InetSocketAddress("example.org", 7000))) {
 *     conn.write(request);
 *     readResponse(conn);          // throws? the peer sees RST
 *     conn.finish();               // all delivered: the peer sees FIN
 * }
 * }
 *
 * Inside a {@link TcpScope} the scope decides: success finishes its connections, anything else
 * aborts them.
 *
 * <p><b>The peer's ending.</b> A read returns -1 exactly when the peer sent FIN; when it reset,
 * reads deliver the bytes that arrived before the reset and then throw
 * {@link ConnectionResetException}, every time after that too.
 *
 * <p><b>Poisoning.</b> A write that fails, times out or is interrupted after sending part of its
 * bytes leaves the peer with a prefix of the message: the connection is poisoned and can only be
 * aborted; {@code finish()} then aborts it and reports it as not delivered. A write that fails
 * before sending anything (a segment whose arena is closed, a timeout while the send buffer
 * stayed full) does not poison it.
 *
 * <p><b>Threads.</b> One thread may read while another writes. Blocking operations park the
 * calling thread (virtual threads release their carrier) and wake promptly when the connection is
 * ended by another thread ({@link ConnectionClosedException}), when a timeout passes
 * ({@link java.net.SocketTimeoutException}) or when the thread is interrupted
 * ({@link java.io.InterruptedIOException}, with the interrupt status kept).
 *
 * <p>This class does not use preview APIs: its class file carries no preview marking, so it loads
 * without {@code --enable-preview}, on JDK 25 and any later JDK, unlike {@link TcpScope}, which
 * needs JDK 25 exactly (README, "Java versions").
 */
public final class TcpConnection implements AutoCloseable {

    /** The default deadline of {@link #finish()}: 10 seconds. */
    public static final Duration DEFAULT_FINISH_TIMEOUT = Duration.ofSeconds(10);

    /** The default connect timeout: 30 seconds. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(30);

    /** The default quiet period of {@link #finish()}: 2 seconds (see {@link #finishQuietPeriod(Duration)}). */
    public static final Duration DEFAULT_FINISH_QUIET_PERIOD = Duration.ofSeconds(2);

    private final StreamSocket socket;
    private final ConnectionEnder ender;
    private final ConnectionOutput output;
    private final ConnectionOptions options;
    private final ConnectionInput input;
    private final ConnectionViews views = new ConnectionViews(this);

    /** The owner set by {@link TcpScope}; a connection belongs to at most one scope. */
    final AtomicReference<Object> owner = new AtomicReference<>();

    TcpConnection(StreamSocket socket) {
        this.socket = socket;
        this.ender = new ConnectionEnder(socket, this);
        this.output = new ConnectionOutput(socket, ender, this);
        this.options = new ConnectionOptions(socket);
        this.input = new ConnectionInput(socket, ender);
    }

    /**
     * Connects to {@code address} with {@link #DEFAULT_CONNECT_TIMEOUT}; see
     * {@link #connect(InetSocketAddress, Duration, InetSocketAddress)}.
     */
    public static TcpConnection connect(InetSocketAddress address) throws IOException {
        return connect(address, DEFAULT_CONNECT_TIMEOUT, null);
    }

    /** Connects to {@code address} within {@code timeout}; see {@link #connect(InetSocketAddress)}. */
    public static TcpConnection connect(InetSocketAddress address, Duration timeout) throws IOException {
        return connect(address, timeout, null);
    }

    /**
     * Connects to {@code host} on {@code port} with {@link #DEFAULT_CONNECT_TIMEOUT}, as
     * {@code new Socket(host, port)} does: the name (or address literal) is resolved and tried as
     * an unresolved address is by {@link #connect(InetSocketAddress, Duration, InetSocketAddress)}.
     *
     * @throws NullPointerException          {@code host} is null
     * @throws IllegalArgumentException      {@code host} is blank, or {@code port} is not in 1..65535
     * @throws java.net.UnknownHostException the name did not resolve
     * @throws java.net.ConnectException     every address refused
     */
    public static TcpConnection connect(String host, int port) throws IOException {
        return connect(HostAndPort.of(host, port), DEFAULT_CONNECT_TIMEOUT, null);
    }

    /**
     * Connects to {@code host} on {@code port} within {@code timeout} (every attempt together);
     * see {@link #connect(String, int)}.
     */
    public static TcpConnection connect(String host, int port, Duration timeout) throws IOException {
        return connect(HostAndPort.of(host, port), timeout, null);
    }

    /**
     * Connects to {@code address} within {@code timeout}, from {@code localAddress} if it is not
     * {@code null}. An unresolved address ({@link InetSocketAddress#createUnresolved}) is resolved
     * here, and each of its addresses is tried in turn until one accepts; the timeout bounds every
     * attempt together, once the name is resolved (resolution itself is the JDK's and not bounded
     * by it). SO_LINGER {1, 0} is set before the handshake.
     *
     * @throws java.net.ConnectException         refused (by every address)
     * @throws java.net.SocketTimeoutException   the timeout passed
     * @throws java.net.UnknownHostException     the name did not resolve
     * @throws IllegalArgumentException          port out of range, timeout not positive
     */
    public static TcpConnection connect(InetSocketAddress address, Duration timeout, InetSocketAddress localAddress)
            throws IOException {
        return new TcpConnection(ClientSockets.connect(address, timeout, localAddress));
    }

    /**
     * Connects over TLS with {@link #DEFAULT_CONNECT_TIMEOUT} for the connection and the
     * handshake together, checking the server's certificate against the address's host string
     * (a name, also sent as SNI, or an IP literal); see
     * {@link #connectTls(InetSocketAddress, Duration, SSLContext, String, Consumer)}.
     */
    public static TcpConnection connectTls(InetSocketAddress address, SSLContext context) throws IOException {
        return connectTls(address, DEFAULT_CONNECT_TIMEOUT, context, TlsSockets.defaultServerName(address), null);
    }

    /**
     * Connects over TLS (the JDK's {@link javax.net.ssl.SSLEngine}, nothing else) and completes the
     * handshake, both within {@code timeout}. The connection then reads and writes plaintext and
     * ends as a plain one does, one layer up: {@link #finish()} sends {@code close_notify}, then
     * FIN; every other ending sends no {@code close_notify}, and RST. A read returns -1 only after
     * the peer's {@code close_notify}; a FIN without it throws {@link TlsTruncationException}.
     *
     * @param serverName the host name sent as SNI and checked against the certificate (endpoint
     *                   identification "HTTPS"), or an IP literal (checked, not sent); null checks
     *                   only that the certificate chains to a root {@code context} trusts
     * @param parameters called on the engine's {@link SSLParameters} before the handshake
     *                   (protocols, cipher suites...); may be null
     * @throws javax.net.ssl.SSLHandshakeException the handshake failed (the message names why) or
     *         the server ended the connection during it; the connection was reset (after the TLS
     *         alert, if one was due)
     * @throws java.net.SocketTimeoutException    the timeout passed (the connection was reset)
     */
    public static TcpConnection connectTls(InetSocketAddress address, Duration timeout, SSLContext context,
                                           String serverName, Consumer<SSLParameters> parameters) throws IOException {
        return new TcpConnection(ClientSockets.connectTls(address, timeout, context, serverName, parameters));
    }

    /** {@return the TLS session of a TLS connection, empty for plain TCP} */
    public Optional<SSLSession> tlsSession() {
        return socket instanceof TlsSocket tls ? Optional.ofNullable(tls.session()) : Optional.empty();
    }

    /** Completes the handshake of an accepted TLS connection (TcpServer, before the handler runs). */
    void tlsHandshake(long deadline) throws IOException {
        if (socket instanceof TlsSocket tls) {
            tls.handshake(deadline);
        }
    }

    // ---------------------------------------------------------------- reading

    /**
     * Reads up to {@code length} bytes into {@code bytes} at {@code offset}, waiting until at least
     * one arrives or the read timeout passes.
     *
     * @return the number of bytes read, or -1 when the peer ended with FIN (or after
     *         {@link #shutdownInput()})
     * @throws ConnectionResetException the peer aborted the connection (the bytes it sent before
     *         are read first), now or earlier; also when another thread's call was the one the
     *         kernel told of the reset
     * @throws SystemCallException      another fatal error ended the connection, e.g. ETIMEDOUT
     *         after TCP_USER_TIMEOUT or keep-alive expiry; every later read reports it again
     */
    public int read(byte[] bytes, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, Objects.requireNonNull(bytes, "bytes").length);
        try {
            return input.read(MemorySegment.ofArray(bytes).asSlice(offset, length), options.readDeadline());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Reads into the whole of {@code bytes}; see {@link #read(byte[], int, int)}. */
    public int read(byte[] bytes) throws IOException {
        try {
            return input.read(MemorySegment.ofArray(Objects.requireNonNull(bytes, "bytes")), options.readDeadline());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Reads into {@code buffer} between its position and limit, advancing the position. */
    public int read(ByteBuffer buffer) throws IOException {
        Objects.requireNonNull(buffer, "buffer");
        if (buffer.isReadOnly()) {
            throw new IllegalArgumentException("cannot read into a read-only buffer");
        }
        int n = read(MemorySegment.ofBuffer(buffer));
        if (n > 0) {
            buffer.position(buffer.position() + n);
        }
        return n;
    }

    /**
     * Reads into {@code segment} (heap or native); see {@link #read(byte[], int, int)}.
     *
     * @throws IllegalStateException the segment's arena is closed (nothing is read)
     * @throws WrongThreadException  the segment is confined to another thread (likewise)
     */
    public int read(MemorySegment segment) throws IOException {
        Objects.requireNonNull(segment, "segment");
        if (segment.isReadOnly()) {
            throw new IllegalArgumentException("cannot read into a read-only segment");
        }
        try {
            return input.read(segment, options.readDeadline());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The input stream view's read: through the connection's input buffer. */
    int readBuffered(byte[] bytes, int offset, int length) throws IOException {
        try {
            return input.readBuffered(bytes, offset, length, options.readDeadline());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    // ---------------------------------------------------------------- writing

    /**
     * Writes all of {@code bytes[offset, offset + length)}, waiting while the send buffer is full.
     * On failure, timeout or interrupt after part of the bytes went out, the connection is
     * poisoned (see the class comment).
     */
    public void write(byte[] bytes, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, Objects.requireNonNull(bytes, "bytes").length);
        write(MemorySegment.ofArray(bytes).asSlice(offset, length));
    }

    /** Writes all of {@code bytes}; see {@link #write(byte[], int, int)}. */
    public void write(byte[] bytes) throws IOException {
        write(bytes, 0, bytes.length);
    }

    /**
     * Writes the bytes between the buffer's position and limit, advancing the position by what
     * was sent: all of them, or, when the write fails part-way, exactly as many as the kernel took.
     */
    public void write(ByteBuffer buffer) throws IOException {
        Objects.requireNonNull(buffer, "buffer");
        try {
            output.write(buffer, options.writeDeadline());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Writes all of {@code segment} (heap or native); see {@link #write(byte[], int, int)}.
     *
     * @throws IllegalStateException the segment's arena is closed (nothing is sent; not poisoned)
     * @throws WrongThreadException  the segment is confined to another thread (likewise)
     */
    public void write(MemorySegment segment) throws IOException {
        Objects.requireNonNull(segment, "segment");
        try {
            output.write(segment, options.writeDeadline());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Buffers bytes for the output stream view. */
    void writeBuffered(byte[] bytes, int offset, int length) throws IOException {
        try {
            output.writeBuffered(bytes, offset, length, options.writeDeadline());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Sends what the output stream view has buffered. */
    void flushBuffered() throws IOException {
        try {
            output.flush(options.writeDeadline());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    // ---------------------------------------------------------------- vectored and zero-copy I/O
    // Thin entries; the bodies are in ConnectionTransfers.

    /**
     * Writes the remaining bytes of every buffer, in order, as one stream (a gathering write:
     * writev(2) on the native transport, so that a header and a body can leave in one system
     * call). Each buffer's position advances by what was sent from it, as for
     * {@link #write(ByteBuffer)}. Heap buffers are copied into native
     * memory (at most 128 KiB per call); direct buffers are sent in place, and their memory must
     * not be freed (an {@code Arena} closed) while the call runs. Poisoning as for
     * {@link #write(byte[], int, int)}.
     *
     * @return the number of bytes written: the sum of the buffers' remaining bytes
     */
    public long write(ByteBuffer... buffers) throws IOException {
        try {
            return ConnectionTransfers.write(output, socket, buffers, options.writeDeadline());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Reads into the buffers in order (a scattering read: readv(2) on the native transport),
     * waiting until at least one byte arrives; a later buffer receives bytes only once the ones
     * before it are full. Positions advance by what was read. -1 means the peer's FIN, as for
     * {@link #read(byte[], int, int)}; the same exceptions.
     *
     * @return the number of bytes read, 0 only if no buffer has room, or -1
     */
    public long read(ByteBuffer... buffers) throws IOException {
        try {
            return ConnectionTransfers.read(socket, input, ender, input.isShutDown(), buffers, options.readDeadline());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Sends the whole of {@code file}: {@link #sendFile(Path, long, long) sendFile(file, 0, -1)}.
     *
     * @return the number of bytes sent
     */
    public long sendFile(Path file) throws IOException {
        return sendFile(file, 0, -1);
    }

    /**
     * Sends {@code count} bytes of {@code file} from {@code position} ({@code count == -1}: up to
     * the end of the file), without copying them through Java memory: the native transport opens
     * the file itself and uses sendfile(2); the portable one uses
     * {@link java.nio.channels.FileChannel#transferTo}. The file is closed before this returns,
     * on every path. The write timeout bounds each wait for room in the send buffer. Like any
     * write: a failure after part of the file went out poisons the connection (only abort
     * remains); on success, {@link #finish()} then sends FIN after every byte.
     *
     * @return the number of bytes sent
     * @throws java.nio.file.NoSuchFileException the file does not exist (nothing was sent)
     * @throws java.nio.file.AccessDeniedException the file may not be read (nothing was sent)
     * @throws java.io.EOFException the file ended before {@code count} bytes (the bytes before
     *         went out: the connection is poisoned)
     */
    public long sendFile(Path file, long position, long count) throws IOException {
        try {
            return ConnectionTransfers.sendFile(output, socket, file, position, count, options.writeDeadline());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Moves every byte this connection receives to {@code target}, until this connection's peer
     * sends FIN, and returns how many moved: the body of a relay. On the native transport the
     * bytes go socket → pipe → socket with splice(2) and never enter Java memory; elsewhere a copy
     * loop moves them. Endings stay exact: at the peer's FIN this returns once every byte is in
     * {@code target}'s send buffer and sends nothing itself — pass the FIN on with
     * {@code target.shutdownOutput()} or {@code target.finish()}; a reset (or any fatal error)
     * of this connection throws (as a read would: {@link ConnectionResetException}), and so does a
     * failed write to {@code target}, which it poisons; abort then, and both peers get RST.
     *
     * <p>This connection's read timeout bounds each wait for input, {@code target}'s write
     * timeout each wait for room. Counts as a read of this connection and a write of
     * {@code target}: another thread may meanwhile write to this connection and read from
     * {@code target} (the other direction of a relay).
     *
     * @return the number of bytes moved
     */
    public long transferTo(TcpConnection target) throws IOException {
        try {
            return ConnectionTransfers.transfer(this, socket, input, ender, input.isShutDown(), target,
                    options.readTimeout(), Objects.requireNonNull(target, "target").writeTimeout());
        } finally {
            Reference.reachabilityFence(this);
            Reference.reachabilityFence(target);
        }
    }

    /** {@return the sending side, for {@link ConnectionTransfers}} */
    ConnectionOutput output() {
        return output;
    }

    // ---------------------------------------------------------------- half-close

    /**
     * Sends FIN after the bytes written so far and keeps reading: the commitment point. After
     * FIN the peer treats the data as complete; an abort that follows no longer reads as a
     * failure to it (a RST after FIN arrives as an ordinary end of stream). Call it only once
     * the whole message is written and correct. Writes afterwards throw.
     *
     * @throws ConnectionResetException the peer had already reset the connection: no FIN was sent
     */
    public void shutdownOutput() throws IOException {
        try {
            output.shutdown(options.writeDeadline());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Declares that we will read nothing more: reads return -1 from now on. The same on every
     * platform: the socket's SHUT_RD, whose effect differs between operating systems, is not
     * used; input that still arrives is discarded when the connection ends gracefully, and
     * nothing is sent to the peer now.
     */
    public void shutdownInput() {
        input.shutdown();
    }

    /** {@return whether {@link #shutdownInput()} was called} */
    public boolean isInputShutdown() {
        return input.isShutDown();
    }

    /** {@return whether {@link #shutdownOutput()} sent FIN} */
    public boolean isOutputShutdown() {
        return output.isShutDown();
    }

    // ---------------------------------------------------------------- endings

    /** Ends the connection gracefully within {@link #DEFAULT_FINISH_TIMEOUT}; see {@link #finish(Duration)}. */
    public FinishResult finish() {
        return finish(DEFAULT_FINISH_TIMEOUT);
    }

    /**
     * Ends the connection gracefully (RFC 9293 CLOSE), within {@code timeout}: flushes buffered
     * output, sends FIN, reads and discards the peer's input meanwhile, waits until the peer's
     * TCP has acknowledged every byte and the FIN, waits for the peer's FIN, and only then closes
     * without RST. Nothing here blocks a carrier thread.
     *
     * <p><b>Delivered</b> ({@code delivered() == true}) is {@link FinishResult.Delivery#CONFIRMED}. If the
     * bytes were not all acknowledged by the deadline, if the peer reset first (also before
     * {@code finish()} began: then no FIN can be sent at all), if the connection was poisoned, or
     * if the thread is interrupted, the connection is aborted instead and the result says
     * {@code delivered() == false}. When the deadline passes after our FIN reached the peer but
     * before its acknowledgement came back, the peer may have seen FIN while we report not
     * delivered: the report is never "delivered" without the proof.
     *
     * <p>Once everything is acknowledged, the wait for the peer's FIN goes on while the peer keeps
     * sending (its input is discarded), and ends when it sends FIN, when it stays quiet for the
     * {@linkplain #finishQuietPeriod(Duration) quiet period}, or at the deadline; the connection is then
     * closed normally ({@code peerEnding() == TIMEOUT} if the peer had not ended).
     *
     * <p>A write in progress on another thread is waited for, within the same deadline: if it has
     * not completed by then (a peer that does not read), or if it fails, the connection is aborted.
     *
     * <p>If the connection is already ending or ended (another thread finished or aborted it),
     * this waits for that ending and reports it.
     *
     * @param timeout the deadline of the whole ending, from now; must be positive
     * @throws IllegalArgumentException {@code timeout} is zero or negative (nothing is ended then:
     *         a graceful ending needs time for the acknowledgement; to end at once, {@link #abort()})
     */
    public FinishResult finish(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        long deadline = Deadline.after(timeout);
        try {
            return ender.finish(output, deadline, options.finishQuietPeriod().toNanos());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Aborts the connection: the peer receives RST at once. Idempotent. */
    public void abort() {
        abort(null);
    }

    /**
     * Aborts the connection (RFC 9293 ABORT): the peer receives RST at once, buffered output is
     * discarded, and threads blocked reading or writing wake with {@link ConnectionClosedException}
     * whose cause is {@code cause}. Idempotent; if another ending is under way, waits for it.
     */
    public void abort(Throwable cause) {
        abort(cause == null ? "abort()" : "abort(" + cause + ")", cause);
    }

    /** Aborts with a reason the library gives (scope failure, server shutdown, backstop...). */
    void abort(String reason, Throwable cause) {
        ender.abort(output, reason, cause);
    }

    /**
     * Aborts unless {@link #finish()} was called: the right thing for try-with-resources, which
     * calls {@code close()} while an exception propagates. A connection already ended is left as
     * it is; one being ended by another thread is waited for.
     */
    @Override
    public void close() {
        abort("closed without finish()", null);
    }

    /**
     * Waits until the peer ends its side, reading and discarding any input meanwhile.
     *
     * @return {@link PeerEnding#FIN}, {@link PeerEnding#RST}, or {@link PeerEnding#TIMEOUT} if
     *         neither arrived within {@code timeout}; a reset is reported as RST also when another
     *         thread's call was the one the kernel told
     * @throws ConnectionClosedException our side ended the connection meanwhile
     * @throws SystemCallException       another fatal error ended the connection (e.g. ETIMEDOUT)
     */
    public PeerEnding awaitPeerEnding(Duration timeout) throws IOException {
        Objects.requireNonNull(timeout, "timeout");
        long deadline = Deadline.after(timeout);
        try {
            return input.awaitPeerEnding(deadline);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** {@return how the connection ended, once it has} */
    public Optional<ConnectionEnding> ending() {
        return Optional.ofNullable(ender.record().recorded());
    }

    /**
     * {@return whether no ending has begun on our side} A peer's reset does not change it: the
     * connection still holds its descriptor and must be ended (an abort, which the owning scope
     * or try-with-resources does); reads and writes report the reset meanwhile.
     */
    public boolean isOpen() {
        return ender.isOpen();
    }

    /** {@return whether a failed write has poisoned the connection (only abort remains)} */
    public boolean isPoisoned() {
        return output.poison() != null;
    }

    /** Registers an observer of the ending (for scopes, servers, metrics); called once. */
    void onEnded(Consumer<ConnectionEnding> observer) {
        ender.record().observe(observer);
    }

    // ---------------------------------------------------------------- views and options

    /**
     * {@return a buffered InputStream over this connection} Closing it closes only the view: no
     * FIN, no RST. Reads honour the read timeout. The same view is returned until it is closed;
     * after that, a new one.
     *
     * <p>The view reads up to 8 KiB per recv into a buffer that belongs to the connection, so
     * {@code read()} of one byte does not cost a system call each. The meanings stay those of
     * {@link #read(byte[], int, int)}: -1 only for the peer's FIN, and a reset (or another fatal
     * error) is thrown only after every byte that arrived before it, buffered ones included, has
     * been read. Mixing the view with direct reads ({@code read(...)}, {@link #channel()}) is
     * safe: every read takes the buffered bytes first, so none is skipped or reordered; bytes
     * still buffered when the view is closed go to the next read. {@link #available()} counts
     * them, {@link #bytesRead()} counts them from when they were received.
     */
    public InputStream inputStream() {
        return views.input();
    }

    /**
     * {@return a buffered OutputStream over this connection} Its buffer (kept by the connection)
     * is sent by {@code flush()}, by its {@code close()} (which closes only the view: no FIN, no
     * RST), by a direct write and by {@link #finish()}; an abort discards it. The same view is
     * returned until it is closed; after that, a new one.
     */
    public OutputStream outputStream() {
        return views.output();
    }

    /**
     * {@return a new ByteChannel view} Closing it closes only the view. The view is also a
     * {@link java.nio.channels.GatheringByteChannel} and a {@link java.nio.channels.ScatteringByteChannel}
     * (see {@link #write(ByteBuffer...)} and {@link #read(ByteBuffer...)}).
     */
    public ByteChannel channel() {
        return new ConnectionChannel(this);
    }

    // Settings follow one convention, as records and TcpServer.Builder do: the getter is the
    // property's name, the setter the same name with the new value.

    /**
     * Sets the timeout of each read, or {@code null} for none (the default): a read that waits
     * longer throws {@link java.net.SocketTimeoutException} and leaves the connection usable.
     *
     * @throws IllegalArgumentException the timeout is zero or negative
     */
    public void readTimeout(Duration timeout) {
        options.readTimeout(timeout);
    }

    /** {@return the timeout of each read, or {@code null} for none} */
    public Duration readTimeout() {
        return options.readTimeout();
    }

    /**
     * Sets the timeout of each write, or {@code null} for none (the default); a write that times
     * out after sending part of its bytes poisons the connection (see the class comment).
     *
     * @throws IllegalArgumentException the timeout is zero or negative
     */
    public void writeTimeout(Duration timeout) {
        options.writeTimeout(timeout);
    }

    /** {@return the timeout of each write, or {@code null} for none} */
    public Duration writeTimeout() {
        return options.writeTimeout();
    }

    /**
     * Sets the quiet period of the graceful ending (default {@link #DEFAULT_FINISH_QUIET_PERIOD}):
     * once the peer has acknowledged everything, {@link #finish} waits for its FIN only while it
     * keeps sending; a peer that sends nothing for this long is not waited for any more (nginx's
     * {@code lingering_timeout}). It never extends the finish deadline.
     */
    public void finishQuietPeriod(Duration period) {
        options.finishQuietPeriod(period);
    }

    /** {@return the quiet period of the graceful ending; see {@link #finishQuietPeriod(Duration)}} */
    public Duration finishQuietPeriod() {
        return options.finishQuietPeriod();
    }

    /** Sets TCP_NODELAY (disables Nagle's algorithm): {@code setOption(TCP_NODELAY, on)}. */
    public void noDelay(boolean on) throws IOException {
        options.setOption(StandardSocketOptions.TCP_NODELAY, on);
    }

    /** {@return whether TCP_NODELAY is set} */
    public boolean noDelay() throws IOException {
        return options.getOption(StandardSocketOptions.TCP_NODELAY);
    }

    /** Sets SO_KEEPALIVE: {@code setOption(SO_KEEPALIVE, on)}. */
    public void keepAlive(boolean on) throws IOException {
        options.setOption(StandardSocketOptions.SO_KEEPALIVE, on);
    }

    /** {@return whether SO_KEEPALIVE is set} */
    public boolean keepAlive() throws IOException {
        return options.getOption(StandardSocketOptions.SO_KEEPALIVE);
    }

    /**
     * Sets a socket option, in the JDK's vocabulary: {@link StandardSocketOptions} TCP_NODELAY,
     * SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF, IP_TOS; {@code jdk.net.ExtendedSocketOptions}
     * TCP_KEEPIDLE, TCP_KEEPINTERVAL, TCP_KEEPCOUNT (seconds, seconds, probes); and
     * {@link TcpOptions#TCP_USER_TIMEOUT} (native transport only). {@link #supportedOptions()}
     * lists what this connection takes.
     *
     * @throws UnsupportedOperationException SO_LINGER (tcpscope's ending owns it: use
     *         {@link #finish()} or {@link #abort()}), or an option not supported here, named
     * @throws IllegalArgumentException      {@code value} is null or out of range (the message names
     *         the option and the value): buffer sizes 0 or more, IP_TOS 0..255, keep-alive idle
     *         and interval 1..32767 s, count 1..127, TCP_USER_TIMEOUT 0..{@link Integer#MAX_VALUE} ms
     * @throws ConnectionClosedException     the connection has ended
     */
    public <T> void setOption(SocketOption<T> option, T value) throws IOException {
        options.setOption(option, value);
    }

    /**
     * {@return the option's value as the kernel reports it} That may differ from what was set:
     * Linux doubles SO_RCVBUF and SO_SNDBUF (its bookkeeping overhead) and clamps them to its
     * limits ({@code net.core.rmem_max}, {@code wmem_max}); the other options read back as set.
     *
     * @throws UnsupportedOperationException as for {@link #setOption}
     * @throws ConnectionClosedException     the connection has ended
     */
    public <T> T getOption(SocketOption<T> option) throws IOException {
        return options.getOption(option);
    }

    /** {@return the options {@link #setOption} takes on this connection (its transport's)} */
    public Set<SocketOption<?>> supportedOptions() {
        return options.supportedOptions();
    }

    /** {@return the number of received bytes not yet read: the stream view's buffer and the kernel's (SIOCINQ)} */
    public int available() throws IOException {
        return input.available();
    }

    /**
     * {@return the local address and port} Never throws: it is known from the handshake on and
     * stays known after the connection ended (also after an abort), for logging.
     */
    public InetSocketAddress localAddress() {
        return options.localAddress();
    }

    /** {@return the peer's address and port} Like {@link #localAddress()}, known also after the ending. */
    public InetSocketAddress remoteAddress() {
        return options.remoteAddress();
    }

    /** {@return total bytes received from the peer (including any the stream view holds unread)} */
    public long bytesRead() {
        return socket.bytesRead();
    }

    /** {@return total bytes written to the kernel for the peer} */
    public long bytesWritten() {
        return socket.bytesWritten();
    }

    /** {@return the socket below, for tests of the transport (which cast it to their implementation)} */
    StreamSocket transportSocket() {
        return socket;
    }

    /** {@return "native" or "portable": the transport this connection runs on} */
    String transportName() {
        return socket.transportName();
    }

    @Override
    public String toString() {
        return "TcpConnection[" + socket.transportName() + ", " + socket.remoteAddress() + ", "
                + ender.stateName() + "]";
    }
}
