package dev.tcpscope;

import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.Platform;
import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.internal.poll.Readiness;
import dev.tcpscope.internal.socket.Connector;
import dev.tcpscope.internal.socket.LingeringClose;
import dev.tcpscope.internal.socket.NativeSocket;
import dev.tcpscope.internal.socket.SocketOptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
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
 * <p><b>Poisoning.</b> A write that fails, times out or is interrupted leaves the peer with an
 * unknown prefix of the message: the connection is poisoned and can only be aborted;
 * {@code finish()} then aborts it and reports it as not delivered.
 *
 * <p><b>Threads.</b> One thread may read while another writes. Blocking operations park the
 * calling thread (virtual threads release their carrier) and wake promptly when the connection is
 * ended by another thread ({@link ConnectionClosedException}), when a timeout passes
 * ({@link java.net.SocketTimeoutException}) or when the thread is interrupted
 * ({@link java.io.InterruptedIOException}, with the interrupt status kept).
 *
 * <p>This class does not use preview APIs: it loads without {@code --enable-preview}.
 */
public final class TcpConnection implements AutoCloseable {

    /** The default deadline of {@link #finish()}: 10 seconds. */
    public static final Duration DEFAULT_FINISH_TIMEOUT = Duration.ofSeconds(10);

    /** The default connect timeout: 30 seconds. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(30);

    private static final int OPEN = 0, ENDING = 1, ENDED = 2;
    private static final int OUTPUT_BUFFER_SIZE = 8192;
    private static final Cleaner CLEANER = Cleaner.create();

    private final NativeSocket socket;
    private final Endings endings;
    private final AtomicInteger state = new AtomicInteger(OPEN);
    private final ReentrantLock outputLock = new ReentrantLock();
    private byte[] pendingOutput;                   // guarded by outputLock; made by the first buffered write
    private int pendingCount;                       // guarded by outputLock
    private volatile Throwable poison;
    private volatile boolean outputShutDown;
    private volatile boolean inputShutDown;
    private volatile Duration readTimeout;
    private volatile Duration writeTimeout;
    private volatile InputStream inputView;
    private volatile OutputStream outputView;
    private final Cleaner.Cleanable backstop;

    /** The owner set by {@link TcpScope}; a connection belongs to at most one scope. */
    final AtomicReference<Object> owner = new AtomicReference<>();

    TcpConnection(NativeSocket socket) {
        this.socket = socket;
        this.endings = new Endings(socket, System.nanoTime());
        this.backstop = CLEANER.register(this, endings);
    }

    /**
     * Connects to {@code address} with {@link #DEFAULT_CONNECT_TIMEOUT}. An unresolved address
     * ({@link InetSocketAddress#createUnresolved}) is resolved here, and each of its addresses
     * is tried in turn.
     */
    public static TcpConnection connect(InetSocketAddress address) throws IOException {
        return connect(address, DEFAULT_CONNECT_TIMEOUT, null);
    }

    /** Connects to {@code address} within {@code timeout}; see {@link #connect(InetSocketAddress)}. */
    public static TcpConnection connect(InetSocketAddress address, Duration timeout) throws IOException {
        return connect(address, timeout, null);
    }

    /**
     * Connects to {@code address} within {@code timeout} (every attempt together, once the name
     * is resolved; resolution itself is the JDK's and not bounded by it),
     * from {@code localAddress} if it is not {@code null}. SO_LINGER {1, 0} is set before the
     * handshake.
     *
     * @throws java.net.ConnectException         refused
     * @throws java.net.SocketTimeoutException   the timeout passed
     * @throws java.net.UnknownHostException     the name did not resolve
     * @throws IllegalArgumentException          port out of range, timeout not positive
     */
    public static TcpConnection connect(InetSocketAddress address, Duration timeout, InetSocketAddress localAddress)
            throws IOException {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(timeout, "timeout");
        Platform.requireSupported();
        NativeSocket socket = new Connector(LinuxSyscalls.INSTANCE, Poller.shared())
                .connect(address, timeout, localAddress,
                        s -> s.options().setLinger(SocketOptions.Linger.ABORT));
        return new TcpConnection(socket);
    }

    // ---------------------------------------------------------------- reading

    /**
     * Reads up to {@code length} bytes into {@code bytes} at {@code offset}, waiting until at least
     * one arrives or the read timeout passes.
     *
     * @return the number of bytes read, or -1 when the peer ended with FIN (or after
     *         {@link #shutdownInput()})
     * @throws ConnectionResetException the peer aborted the connection
     */
    public int read(byte[] bytes, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, Objects.requireNonNull(bytes, "bytes").length);
        return read(MemorySegment.ofArray(bytes).asSlice(offset, length));
    }

    /** Reads into the whole of {@code bytes}; see {@link #read(byte[], int, int)}. */
    public int read(byte[] bytes) throws IOException {
        return read(bytes, 0, bytes.length);
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

    /** Reads into {@code segment} (heap or native); see {@link #read(byte[], int, int)}. */
    public int read(MemorySegment segment) throws IOException {
        Objects.requireNonNull(segment, "segment");
        if (segment.isReadOnly()) {
            throw new IllegalArgumentException("cannot read into a read-only segment");
        }
        if (inputShutDown) {
            throwIfEnded("read");
            return -1;
        }
        try {
            return socket.read(segment, deadline(readTimeout));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    // ---------------------------------------------------------------- writing

    /**
     * Writes all of {@code bytes[offset, offset + length)}, waiting while the send buffer is full.
     * On failure, timeout or interrupt the connection is poisoned (see the class comment).
     */
    public void write(byte[] bytes, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, Objects.requireNonNull(bytes, "bytes").length);
        write(MemorySegment.ofArray(bytes).asSlice(offset, length));
    }

    /** Writes all of {@code bytes}; see {@link #write(byte[], int, int)}. */
    public void write(byte[] bytes) throws IOException {
        write(bytes, 0, bytes.length);
    }

    /** Writes the bytes between the buffer's position and limit, advancing the position. */
    public void write(ByteBuffer buffer) throws IOException {
        Objects.requireNonNull(buffer, "buffer");
        int n = buffer.remaining();
        write(MemorySegment.ofBuffer(buffer));
        buffer.position(buffer.position() + n);
    }

    /** Writes all of {@code segment} (heap or native); see {@link #write(byte[], int, int)}. */
    public void write(MemorySegment segment) throws IOException {
        Objects.requireNonNull(segment, "segment");
        outputLock.lock();
        try {
            checkWritable("write");
            long deadline = deadline(writeTimeout);
            flushPendingOutput(deadline);
            send(segment, deadline);
        } finally {
            outputLock.unlock();
            Reference.reachabilityFence(this);
        }
    }

    /** Sends and poisons on any failure; caller holds outputLock. */
    private void send(MemorySegment segment, long deadline) throws IOException {
        if (segment.byteSize() == 0) {
            return;
        }
        ScopeBranch.noteWrite(this); // which scope branch wrote here (TcpScope taints it if that work fails)
        try {
            socket.write(segment, deadline);
        } catch (IOException | RuntimeException | Error e) {
            poison = e;
            throw e;
        }
    }

    private void flushPendingOutput(long deadline) throws IOException {
        if (pendingCount > 0) {
            int n = pendingCount;
            pendingCount = 0;
            send(MemorySegment.ofArray(pendingOutput).asSlice(0, n), deadline);
        }
    }

    /** Buffers bytes for the output stream view; caller holds nothing. */
    void writeBuffered(byte[] bytes, int offset, int length) throws IOException {
        outputLock.lock();
        try {
            checkWritable("write");
            if (pendingOutput == null) {
                pendingOutput = new byte[OUTPUT_BUFFER_SIZE]; // only connections that use the stream view pay for it
            }
            if (length >= pendingOutput.length - pendingCount) {
                long deadline = deadline(writeTimeout);
                flushPendingOutput(deadline);
                if (length >= pendingOutput.length) {
                    send(MemorySegment.ofArray(bytes).asSlice(offset, length), deadline);
                    return;
                }
            }
            System.arraycopy(bytes, offset, pendingOutput, pendingCount, length);
            pendingCount += length;
        } finally {
            outputLock.unlock();
            Reference.reachabilityFence(this);
        }
    }

    /** Sends what the output stream view has buffered. */
    void flushBuffered() throws IOException {
        outputLock.lock();
        try {
            if (pendingCount > 0) {
                checkWritable("flush");
                flushPendingOutput(deadline(writeTimeout));
            }
        } finally {
            outputLock.unlock();
            Reference.reachabilityFence(this);
        }
    }

    private void checkWritable(String operation) throws IOException {
        throwIfEnded(operation);
        Throwable p = poison;
        if (p != null) {
            throw new ConnectionClosedException(operation + ": connection is poisoned by an earlier failed write"
                    + " (only abort() remains)", p);
        }
        if (outputShutDown) {
            throw new ConnectionClosedException(operation + ": output was shut down", null);
        }
    }

    private void throwIfEnded(String operation) throws ConnectionClosedException {
        if (state.get() != OPEN) {
            throw socket.descriptor().closedException(operation);
        }
    }

    // ---------------------------------------------------------------- half-close

    /**
     * Sends FIN after the bytes written so far and keeps reading: the commitment point. After
     * FIN the peer treats the data as complete; an abort that follows no longer reads as a
     * failure to it (a RST after FIN arrives as an ordinary end of stream). Call it only once
     * the whole message is written and correct. Writes afterwards throw.
     */
    public void shutdownOutput() throws IOException {
        outputLock.lock();
        try {
            checkWritable("shutdownOutput");
            flushPendingOutput(deadline(writeTimeout));
            outputShutDown = true;
            socket.shutdownOutput();
        } finally {
            outputLock.unlock();
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
        inputShutDown = true;
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
     * <p>If the bytes were not all acknowledged by the deadline, if the peer reset, if the
     * connection was poisoned, or if the thread is interrupted, the connection is aborted
     * instead and the result says {@code delivered() == false}. If all was acknowledged but the
     * peer has not sent FIN by the deadline, the connection is closed normally.
     *
     * <p>A write in progress on another thread is waited for, within the same deadline: if it has
     * not completed by then (a peer that does not read), or if it fails, the connection is aborted.
     *
     * <p>If the connection is already ending or ended (another thread finished or aborted it),
     * this waits for that ending and reports it.
     */
    public FinishResult finish(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        long deadline = Connector.deadlineAfter(timeout);
        if (!state.compareAndSet(OPEN, ENDING)) {
            return resultOf(awaitEnding());
        }
        // A write still in progress on another thread holds the output lock: wait for it, but
        // only until the deadline (a write towards a peer that does not read never completes).
        try {
            if (!lockOutputBy(deadline)) {
                return resultOf(abortNow("finish(): a write in progress did not complete by the deadline", null));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return resultOf(abortNow("finish() interrupted while waiting for a write in progress", e));
        }
        try {
            // Checked under the lock: a write that was in progress may just have failed.
            Throwable p = poison;
            if (p != null) {
                return resultOf(abortNow("finish() on a connection poisoned by a failed write", p));
            }
            flushPendingOutput(deadline);
        } catch (IOException | RuntimeException e) {
            return resultOf(abortNow("finish(): flushing buffered output failed: " + e.getMessage(), e));
        } finally {
            outputLock.unlock();
        }
        LingeringClose.Outcome outcome = LingeringClose.run(socket, deadline);
        FinishResult result = new FinishResult(outcome.delivered(), outcome.unacknowledgedBytes(),
                switch (outcome.peerEnd()) {
                    case FIN -> PeerEnding.FIN;
                    case RST -> PeerEnding.RST;
                    case NOT_BY_DEADLINE -> PeerEnding.TIMEOUT;
                }, outcome.bytesDiscarded(), outcome.reason());
        endings.record(outcome.delivered() ? ConnectionEnding.Mode.GRACEFUL : ConnectionEnding.Mode.ABORTED,
                outcome.delivered() ? "finish()" : "finish() failed: " + outcome.reason(), null, result);
        state.set(ENDED);
        backstop.clean();
        return result;
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
        if (state.compareAndSet(OPEN, ENDING)) {
            abortNow(reason, cause);
        } else {
            awaitEnding();
        }
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

    private boolean lockOutputBy(long deadline) throws InterruptedException {
        if (deadline == Readiness.NO_DEADLINE) {
            outputLock.lockInterruptibly();
            return true;
        }
        return outputLock.tryLock(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private ConnectionEnding abortNow(String reason, Throwable cause) {
        long unacknowledged = 0;
        try {
            unacknowledged = socket.options().unacknowledged();
        } catch (IOException ignored) {
            // already closed underneath: nothing more to learn
        }
        // Close first: a writer parked in the socket holds the output lock until the close wakes it.
        socket.close("aborted: " + reason, cause); // SO_LINGER {1,0}: RST
        outputLock.lock();
        try {
            pendingCount = 0;
        } finally {
            outputLock.unlock();
        }
        FinishResult result = new FinishResult(false, unacknowledged, PeerEnding.UNKNOWN, 0, reason);
        ConnectionEnding ending = endings.record(ConnectionEnding.Mode.ABORTED, reason, cause, result);
        state.set(ENDED);
        backstop.clean();
        return ending;
    }

    private ConnectionEnding awaitEnding() {
        return endings.await();
    }

    private static FinishResult resultOf(ConnectionEnding ending) {
        return ending.result();
    }

    /**
     * Waits until the peer ends its side, reading and discarding any input meanwhile.
     *
     * @return {@link PeerEnding#FIN}, {@link PeerEnding#RST}, or {@link PeerEnding#TIMEOUT} if
     *         neither arrived within {@code timeout}
     * @throws ConnectionClosedException our side ended the connection meanwhile
     */
    public PeerEnding awaitPeerEnding(Duration timeout) throws IOException {
        Objects.requireNonNull(timeout, "timeout");
        long deadline = Connector.deadlineAfter(timeout);
        byte[] scratch = new byte[8192];
        MemorySegment segment = MemorySegment.ofArray(scratch);
        try {
            while (socket.read(segment, deadline) >= 0) {
                // discard
            }
            return PeerEnding.FIN;
        } catch (ConnectionResetException e) {
            return PeerEnding.RST;
        } catch (java.net.SocketTimeoutException e) {
            return PeerEnding.TIMEOUT;
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** {@return how the connection ended, once it has} */
    public Optional<ConnectionEnding> ending() {
        return Optional.ofNullable(endings.recorded());
    }

    /** {@return whether no ending has begun} */
    public boolean isOpen() {
        return state.get() == OPEN;
    }

    /** {@return whether a failed write has poisoned the connection (only abort remains)} */
    public boolean isPoisoned() {
        return poison != null;
    }

    /** Registers an observer of the ending (for scopes, servers, metrics); called once. */
    void onEnded(Consumer<ConnectionEnding> observer) {
        endings.observe(observer);
    }

    // ---------------------------------------------------------------- views and options

    /**
     * {@return an InputStream over this connection} Closing it closes only the view: no FIN, no
     * RST. Reads honour the read timeout.
     */
    public InputStream inputStream() {
        InputStream view = inputView;
        if (view == null) {
            synchronized (this) {
                view = inputView;
                if (view == null) {
                    inputView = view = new ConnectionInputStream(this);
                }
            }
        }
        return view;
    }

    /**
     * {@return a buffered OutputStream over this connection} Its buffer is sent by
     * {@code flush()}, by its {@code close()} (which closes only the view: no FIN, no RST), by a
     * direct write and by {@link #finish()}; an abort discards it.
     */
    public OutputStream outputStream() {
        OutputStream view = outputView;
        if (view == null) {
            synchronized (this) {
                view = outputView;
                if (view == null) {
                    outputView = view = new ConnectionOutputStream(this);
                }
            }
        }
        return view;
    }

    /** {@return a new ByteChannel view} Closing it closes only the view. */
    public ByteChannel channel() {
        return new ConnectionChannel(this);
    }

    /** Sets the timeout of each read, or {@code null} for none (the default). */
    public void setReadTimeout(Duration timeout) {
        this.readTimeout = checkTimeout(timeout);
    }

    /** Sets the timeout of each write, or {@code null} for none (the default). */
    public void setWriteTimeout(Duration timeout) {
        this.writeTimeout = checkTimeout(timeout);
    }

    private static Duration checkTimeout(Duration timeout) {
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("timeout must be positive, or null for none: " + timeout);
        }
        return timeout;
    }

    private static long deadline(Duration timeout) {
        return timeout == null ? Readiness.NO_DEADLINE : Connector.deadlineAfter(timeout);
    }

    /** Sets TCP_NODELAY (disables Nagle's algorithm). */
    public void setNoDelay(boolean on) throws IOException {
        socket.options().setInt(SocketOptions.IPPROTO_TCP, SocketOptions.TCP_NODELAY, on ? 1 : 0);
    }

    /** {@return whether TCP_NODELAY is set} */
    public boolean noDelay() throws IOException {
        return socket.options().getInt(SocketOptions.IPPROTO_TCP, SocketOptions.TCP_NODELAY) != 0;
    }

    /** Sets SO_KEEPALIVE. */
    public void setKeepAlive(boolean on) throws IOException {
        socket.options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_KEEPALIVE, on ? 1 : 0);
    }

    /** {@return whether SO_KEEPALIVE is set} */
    public boolean keepAlive() throws IOException {
        return socket.options().getInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_KEEPALIVE) != 0;
    }

    /** {@return the number of received bytes not yet read (SIOCINQ)} */
    public int available() throws IOException {
        return inputShutDown ? 0 : socket.options().unread();
    }

    /** {@return the local address} */
    public InetSocketAddress localAddress() throws IOException {
        return socket.localAddress();
    }

    /** {@return the peer's address} */
    public SocketAddress remoteAddress() {
        return socket.remoteAddress();
    }

    /** {@return total bytes read from the peer} */
    public long bytesRead() {
        return socket.bytesRead();
    }

    /** {@return total bytes written to the kernel for the peer} */
    public long bytesWritten() {
        return socket.bytesWritten();
    }

    NativeSocket nativeSocket() {
        return socket;
    }

    @Override
    public String toString() {
        return "TcpConnection[" + socket.remoteAddress() + ", " + switch (state.get()) {
            case OPEN -> "open";
            case ENDING -> "ending";
            default -> "ended";
        } + "]";
    }

    /**
     * The ending record, shared with the Cleaner backstop (so it must not refer to the
     * connection): aborts a connection that became unreachable without an ending.
     */
    private static final class Endings implements Runnable {
        private final NativeSocket socket;
        private final long startNanos;
        private final CompletableFuture<ConnectionEnding> ending = new CompletableFuture<>();
        private final AtomicReference<Consumer<ConnectionEnding>> observer = new AtomicReference<>();

        Endings(NativeSocket socket, long startNanos) {
            this.socket = socket;
            this.startNanos = startNanos;
        }

        ConnectionEnding record(ConnectionEnding.Mode mode, String reason, Throwable cause, FinishResult finish) {
            ConnectionEnding e = new ConnectionEnding(mode, reason, cause, socket.bytesRead(), socket.bytesWritten(),
                    Duration.ofNanos(System.nanoTime() - startNanos), finish);
            if (ending.complete(e)) {
                Consumer<ConnectionEnding> o = observer.get();
                if (o != null) {
                    notify(o, e);
                }
            }
            return ending.join();
        }

        void observe(Consumer<ConnectionEnding> o) {
            if (!observer.compareAndSet(null, o)) {
                throw new IllegalStateException("the connection's ending is already observed");
            }
            ConnectionEnding e = ending.getNow(null);
            if (e != null) {
                notify(o, e);
            }
        }

        private static void notify(Consumer<ConnectionEnding> o, ConnectionEnding e) {
            try {
                o.accept(e);
            } catch (RuntimeException ex) {
                System.getLogger(TcpConnection.class.getName())
                        .log(System.Logger.Level.WARNING, "ending observer failed", ex);
            }
        }

        ConnectionEnding recorded() {
            return ending.getNow(null);
        }

        ConnectionEnding await() {
            boolean interrupted = false;
            try {
                while (true) {
                    try {
                        return ending.get();
                    } catch (InterruptedException e) {
                        interrupted = true; // an ending is bounded by its deadline: keep waiting
                    } catch (ExecutionException e) {
                        throw new IllegalStateException(e);
                    }
                }
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        /** The Cleaner's action: the connection became unreachable. */
        @Override
        public void run() {
            if (ending.isDone()) {
                return;
            }
            String reason = "unreachable without an ending: aborted by the backstop";
            socket.close("aborted: " + reason, null);
            record(ConnectionEnding.Mode.ABORTED, reason, null,
                    new FinishResult(false, 0, PeerEnding.UNKNOWN, 0, reason));
        }
    }
}
