package dev.tcpscope.internal.tls;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.FinishResult;
import dev.tcpscope.PeerEnding;
import dev.tcpscope.TlsTruncationException;
import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.transport.StreamSocket;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSession;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A TLS connection over another {@link StreamSocket} (native or portable), driven by the JDK's
 * {@link SSLEngine}, whose ending follows the outcome of the work as TCP's does:
 *
 * <ul>
 *   <li>{@link #endGracefully} (declared success) sends {@code close_notify}, then runs the TCP
 *       socket's graceful ending (FIN after every byte acknowledged).</li>
 *   <li>{@link #close} (every failure path) never sends {@code close_notify}: the TCP socket's
 *       close sends RST. If the engine holds a fatal alert (it failed: a handshake refused, a
 *       record that does not decrypt), the alert goes out first, so the peer learns why; a
 *       fatal alert is never a clean end to any peer.</li>
 *   <li>Reading: the peer's {@code close_notify} is the end of stream (-1); a FIN before it is a
 *       {@link TlsTruncationException}; a reset is the TCP socket's
 *       {@link dev.tcpscope.ConnectionResetException}.</li>
 * </ul>
 *
 * <p>Threads: one reader (under {@code readLock}, which guards {@code netIn} and {@code appIn})
 * and one writer (under {@code writeLock}, which guards {@code netOut}) at once, as the
 * {@link SSLEngine} allows wrap and unwrap to run concurrently. Handshake messages the reader's
 * unwrap asks to send (a TLS 1.3 KeyUpdate answer, a TLS 1.2 renegotiation) are sent by whoever
 * holds {@code writeLock}: the reader takes it if it is free, otherwise it sets
 * {@code wrapPending}, which the writer checks after releasing it. A TLS failure is remembered
 * ({@code fatal}) and reported to every later call on every thread.
 */
public final class TlsSocket implements StreamSocket {

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** How long an abort may wait for the socket to take a pending fatal alert before its RST. */
    private static final long ALERT_WRITE_NANOS = 100_000_000L;

    private final StreamSocket tcp;
    private final SSLEngine engine;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();

    private ByteBuffer netIn;  // readLock: TLS bytes received, not yet unwrapped (write mode)
    private ByteBuffer appIn;  // readLock: plaintext unwrapped, not yet read (read mode)
    private ByteBuffer netOut; // writeLock: records wrapped, being sent

    private volatile boolean wrapPending;   // the reader's unwrap left handshake output to send
    private volatile IOException fatal;     // the first TLS failure: every later call reports it
    private volatile boolean peerClosed;    // the peer's close_notify was read
    private volatile boolean truncated;     // the peer's FIN came before its close_notify
    private volatile boolean outputClosed;  // our close_notify went out
    private volatile boolean ending;        // endGracefully began: its drain reads below us
    private volatile boolean handshaken;
    private volatile int buffered;          // appIn.remaining(), for unread()
    private volatile long plainRead;        // written under readLock only
    private volatile long plainWritten;     // written under writeLock only

    /** Wraps {@code tcp}, connected, with {@code engine} configured for its side; no handshake yet. */
    public TlsSocket(StreamSocket tcp, SSLEngine engine) {
        this.tcp = tcp;
        this.engine = engine;
        SSLSession session = engine.getSession();
        this.netIn = ByteBuffer.allocate(session.getPacketBufferSize());
        this.appIn = ByteBuffer.allocate(session.getApplicationBufferSize()).flip();
        this.netOut = ByteBuffer.allocate(session.getPacketBufferSize());
    }

    /**
     * Runs the handshake to its end by {@code deadline}. On any exception the caller closes the
     * socket ({@link #close}: the engine's alert, if any, then RST).
     *
     * @throws SSLHandshakeException the handshake failed (the JDK's message names the cause), or
     *         the peer ended the connection (FIN) during it
     * @throws SocketTimeoutException the deadline passed first
     */
    public void handshake(long deadline) throws IOException {
        Deadline.lock(readLock, deadline, "TLS handshake");
        try {
            Deadline.lock(writeLock, deadline, "TLS handshake");
            try {
                engine.beginHandshake();
                while (true) {
                    switch (engine.getHandshakeStatus()) {
                        case NOT_HANDSHAKING, FINISHED -> {
                            handshaken = true;
                            return;
                        }
                        case NEED_TASK -> runTasks();
                        case NEED_WRAP -> sendEngineOutput(deadline);
                        case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                            if (!unwrapOnce(deadline) && receive(deadline) < 0) {
                                throw new SSLHandshakeException("the peer ended the connection (FIN) during the TLS handshake");
                            }
                            if (peerClosed) {
                                throw new SSLHandshakeException("the peer sent close_notify during the TLS handshake");
                            }
                        }
                    }
                }
            } catch (SocketTimeoutException e) {
                throw new SocketTimeoutException("the TLS handshake did not complete by its deadline");
            } catch (SSLException e) {
                throw remember(e);
            } finally {
                writeLock.unlock();
            }
        } finally {
            readLock.unlock();
        }
    }

    /** {@return the TLS session once the handshake completed, else null} */
    public SSLSession session() {
        return handshaken ? engine.getSession() : null;
    }

    // ---------------------------------------------------------------- reading

    @Override
    public int read(MemorySegment buffer, long deadline) throws IOException {
        if (buffer.byteSize() == 0) {
            return 0;
        }
        buffer.get(ValueLayout.JAVA_BYTE, 0); // a closed arena or another thread's segment: the caller's exception, nothing read
        Deadline.lock(readLock, deadline, "read");
        try {
            while (true) {
                if (appIn.hasRemaining()) {
                    return deliver(buffer);
                }
                if (peerClosed) {
                    return -1;
                }
                throwIfReadFailed();
                if (!unwrapOnce(deadline) && receive(deadline) < 0) {
                    truncated = true;
                    throw truncation();
                }
            }
        } catch (SSLException e) {
            if (ending) {
                throw tcp.closedException("read"); // the graceful ending's drain took bytes of our records
            }
            throw remember(e);
        } finally {
            readLock.unlock();
        }
    }

    private void throwIfReadFailed() throws IOException {
        IOException f = failure("read");
        if (f != null) {
            throw f;
        }
        if (truncated) {
            throw truncation();
        }
    }

    private TlsTruncationException truncation() {
        return new TlsTruncationException("read: the peer ended the TCP connection (FIN) without TLS close_notify:"
                + " its data may be truncated");
    }

    private int deliver(MemorySegment buffer) {
        int n = (int) Math.min(appIn.remaining(), buffer.byteSize());
        MemorySegment.copy(MemorySegment.ofBuffer(appIn), 0, buffer, 0, n);
        appIn.position(appIn.position() + n);
        buffered = appIn.remaining();
        return n;
    }

    /**
     * Unwraps what {@code netIn} holds into {@code appIn} (readLock held); runs what the
     * handshake asks for. {@return false if more bytes must be received first}
     */
    private boolean unwrapOnce(long deadline) throws IOException {
        if (netIn.position() == 0) {
            return false;
        }
        netIn.flip();
        appIn.compact();
        SSLEngineResult r;
        try {
            r = engine.unwrap(netIn, appIn);
        } finally {
            netIn.compact();
            appIn.flip();
            buffered = appIn.remaining();
        }
        plainRead += r.bytesProduced();
        switch (r.getStatus()) {
            case CLOSED -> {
                // The peer's close_notify. (In TLS 1.2 the engine now wants to answer it: that
                // answer is our close_notify, which only endGracefully sends.)
                peerClosed = true;
                return true;
            }
            case BUFFER_UNDERFLOW -> {
                if (netIn.position() == netIn.capacity()) {
                    netIn = grow(netIn, engine.getSession().getPacketBufferSize(), true);
                }
                return false;
            }
            case BUFFER_OVERFLOW -> {
                appIn = grow(appIn, engine.getSession().getApplicationBufferSize(), false);
                return true;
            }
            default -> {
            }
        }
        switch (r.getHandshakeStatus()) {
            case NEED_TASK -> runTasks();
            case NEED_WRAP -> sendHandshakeOutput(deadline);
            default -> {
            }
        }
        return r.bytesConsumed() > 0 || r.bytesProduced() > 0;
    }

    /** Receives more TLS bytes into {@code netIn} (readLock held). {@return the count, or -1 for the peer's FIN} */
    private int receive(long deadline) throws IOException {
        if (!netIn.hasRemaining()) {
            netIn = grow(netIn, netIn.capacity() * 2, true);
        }
        int n = tcp.read(MemorySegment.ofBuffer(netIn), deadline);
        if (n > 0) {
            netIn.position(netIn.position() + n);
        }
        return n;
    }

    // ---------------------------------------------------------------- writing

    /**
     * Wraps and sends all of {@code buffer}. {@link #bytesWritten()} counts plaintext when the
     * engine seals it into a record: a record is numbered, so once sealed it must be sent (or
     * the connection aborted); a write that fails after sealing any leaves the connection
     * poisoned, which is what the counter tells the connection above.
     */
    @Override
    public void write(MemorySegment buffer, long deadline) throws IOException {
        if (buffer.byteSize() > 0) {
            buffer.get(ValueLayout.JAVA_BYTE, 0); // the caller's mistake is the caller's exception, nothing sent
        }
        Deadline.lock(writeLock, deadline, "write");
        try {
            checkWritable("write");
            ByteBuffer in = buffer.asByteBuffer();
            while (in.hasRemaining()) {
                netOut.clear();
                SSLEngineResult r = engine.wrap(in, netOut);
                plainWritten += r.bytesConsumed();
                switch (r.getStatus()) {
                    case BUFFER_OVERFLOW -> {
                        netOut = grow(netOut, engine.getSession().getPacketBufferSize(), false);
                        continue;
                    }
                    case CLOSED -> {
                        // Not sent: what this wrap produced closes our output (in TLS 1.2, the
                        // answer to a close_notify the reader just took), which only finish() may.
                        netOut.clear();
                        checkWritable("write");
                        throw tcp.closedException("write");
                    }
                    default -> {
                    }
                }
                send(deadline);
                switch (r.getHandshakeStatus()) {
                    case NEED_TASK -> runTasks();
                    case NEED_WRAP -> sendEngineOutput(deadline);
                    case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> awaitPeerHandshake(deadline);
                    default -> {
                    }
                }
            }
        } catch (SSLException e) {
            throw remember(e);
        } finally {
            writeLock.unlock();
        }
        if (wrapPending) {
            sendHandshakeOutput(deadline);
        }
    }

    private void checkWritable(String operation) throws IOException {
        IOException f = failure(operation);
        if (f != null) {
            throw f;
        }
        if (outputClosed) {
            throw tcp.closedException(operation);
        }
        if (peerClosed && !isTls13()) {
            throw new ConnectionClosedException(operation + ": the peer closed the TLS 1.2 connection (close_notify):"
                    + " nothing more can be sent (RFC 5246 7.2.1)", null);
        }
    }

    private boolean isTls13() {
        return "TLSv1.3".equals(engine.getSession().getProtocol());
    }

    /** Sends {@code netOut} as wrapped (writeLock held). */
    private void send(long deadline) throws IOException {
        netOut.flip();
        if (netOut.hasRemaining()) {
            tcp.write(MemorySegment.ofBuffer(netOut), deadline);
        }
        netOut.clear();
    }

    /** Handshake messages only: see {@link #sendEngineOutput(long, boolean)}. */
    private void sendEngineOutput(long deadline) throws IOException {
        sendEngineOutput(deadline, false);
    }

    /**
     * Wraps and sends what the engine has to send by itself (writeLock held): handshake messages,
     * and, when {@code closing} (our close_notify, an abort's alert), the engine's last records.
     * Otherwise a wrap that closes the engine's output is not sent: in TLS 1.2 the engine
     * answers the peer's close_notify with its own at the next wrap, and only finish() may.
     */
    private void sendEngineOutput(long deadline, boolean closing) throws IOException {
        while (true) {
            netOut.clear();
            SSLEngineResult r = engine.wrap(EMPTY, netOut);
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                netOut = grow(netOut, engine.getSession().getPacketBufferSize(), false);
                continue;
            }
            if (r.getStatus() == SSLEngineResult.Status.CLOSED && !closing) {
                netOut.clear();
                return;
            }
            send(deadline);
            if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                runTasks();
            }
            if (r.bytesProduced() == 0 || r.getStatus() == SSLEngineResult.Status.CLOSED
                    || engine.getHandshakeStatus() != SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                return;
            }
        }
    }

    /**
     * Handshake output the reader's unwrap produced (a KeyUpdate answer, a renegotiation
     * message): sent now if {@code writeLock} is free, else by its holder when it releases it.
     */
    private void sendHandshakeOutput(long deadline) throws IOException {
        wrapPending = true;
        while (wrapPending && !peerClosed && writeLock.tryLock()) {
            try {
                wrapPending = false;
                sendEngineOutput(deadline);
            } finally {
                writeLock.unlock();
            }
        }
    }

    /**
     * The writer's wrap needs the peer's handshake messages (a TLS 1.2 renegotiation): unwraps
     * them itself when no reader is at work, keeping any data for the reader, else waits for the
     * reader to do it, sending what its unwraps produce (writeLock held).
     */
    private void awaitPeerHandshake(long deadline) throws IOException {
        while (engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_UNWRAP
                || engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_UNWRAP_AGAIN) {
            if (readLock.tryLock()) {
                try {
                    if (!unwrapOnce(deadline) && receive(deadline) < 0) {
                        truncated = true;
                        throw new SSLHandshakeException("the peer ended the connection (FIN) during a TLS renegotiation");
                    }
                } finally {
                    readLock.unlock();
                }
            } else {
                if (Deadline.remainingNanos(deadline) == 0) {
                    throw new SocketTimeoutException("write timed out during a TLS renegotiation");
                }
                java.util.concurrent.locks.LockSupport.parkNanos(this, 1_000_000L); // the reader unwraps meanwhile
            }
            if (wrapPending) {
                wrapPending = false;
                sendEngineOutput(deadline);
            }
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    private static ByteBuffer grow(ByteBuffer buffer, int atLeast, boolean writeMode) {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(atLeast, buffer.capacity() * 2));
        if (writeMode) {
            buffer.flip();
        }
        bigger.put(buffer);
        return writeMode ? bigger : bigger.flip();
    }

    // ---------------------------------------------------------------- endings

    /** Sends {@code close_notify}, then FIN: TLS 1.3 half-close; in TLS 1.2 the peer must answer and close. */
    @Override
    public void shutdownOutput() throws IOException {
        writeLock.lock();
        try {
            sendCloseNotify(Deadline.NONE);
        } finally {
            writeLock.unlock();
        }
        tcp.shutdownOutput();
    }

    private void sendCloseNotify(long deadline) throws IOException {
        IOException f = failure("close_notify");
        if (f != null) {
            throw f;
        }
        if (!outputClosed) {
            engine.closeOutbound();
            sendEngineOutput(deadline, true);
            outputClosed = true;
        }
    }

    /**
     * Declared success: {@code close_notify}, then the TCP socket's graceful ending. Its drain
     * reads below TLS and discards, so {@link FinishResult#peerEnding()} speaks of TCP: FIN when
     * the peer's TCP ended, whether or not a {@code close_notify} came before it.
     */
    @Override
    public FinishResult endGracefully(long deadline, long quietNanos) {
        IOException f = failure("finish");
        if (f != null) {
            return abortEnding("the TLS connection had failed: " + f.getMessage(), f);
        }
        ending = true;
        try {
            Deadline.lock(writeLock, deadline, "finish");
            try {
                sendCloseNotify(deadline);
            } finally {
                writeLock.unlock();
            }
        } catch (IOException | RuntimeException e) {
            return abortEnding("close_notify could not be sent: " + e.getMessage(), e);
        }
        return tcp.endGracefully(deadline, quietNanos);
    }

    private FinishResult abortEnding(String reason, Throwable cause) {
        long unacknowledged;
        try {
            unacknowledged = tcp.unacknowledged();
        } catch (IOException e) {
            unacknowledged = -1;
        }
        close("aborted: " + reason, cause);
        return new FinishResult(FinishResult.Delivery.NOT_DELIVERED, unacknowledged,
                tcp.wasReset() ? PeerEnding.RST : PeerEnding.UNKNOWN, 0, reason);
    }

    /**
     * Aborts: never {@code close_notify}; the engine's pending fatal alert, if it failed, then
     * RST. The alert is sent only if no writer holds the socket and it is taken within 100 ms.
     */
    @Override
    public boolean close(String description, Throwable reason) {
        if (fatal != null && !peerClosed && !outputClosed && !tcp.hasFailed() && writeLock.tryLock()) {
            try {
                sendEngineOutput(System.nanoTime() + ALERT_WRITE_NANOS, true);
            } catch (IOException | RuntimeException ignored) {
                // The RST below ends it anyway.
            } finally {
                writeLock.unlock();
            }
        }
        return tcp.close(description, reason);
    }

    /** Records the first TLS failure; {@return the exception to throw now} */
    private IOException remember(SSLException e) {
        if (fatal == null) {
            fatal = e;
        }
        return e;
    }

    // ---------------------------------------------------------------- the rest, from the TCP socket

    @Override
    public String transportName() {
        return tcp.transportName();
    }

    @Override
    public boolean hasFailed() {
        return fatal != null || tcp.hasFailed();
    }

    @Override
    public boolean wasReset() {
        return tcp.wasReset();
    }

    @Override
    public IOException failure(String operation) {
        IOException f = tcp.failure(operation);
        if (f != null) {
            return f;
        }
        IOException tls = fatal;
        return tls == null ? null : new SSLException(operation + ": the TLS connection failed: " + tls.getMessage(), tls);
    }

    @Override
    public ConnectionClosedException closedException(String operation) {
        return tcp.closedException(operation);
    }

    /** {@return plaintext bytes decrypted} */
    @Override
    public long bytesRead() {
        return plainRead;
    }

    /** {@return plaintext bytes sealed into records (see {@link #write})} */
    @Override
    public long bytesWritten() {
        return plainWritten;
    }

    @Override
    public InetSocketAddress localAddress() throws IOException {
        return tcp.localAddress();
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return tcp.remoteAddress();
    }

    @Override
    public void setNoDelay(boolean on) throws IOException {
        tcp.setNoDelay(on);
    }

    @Override
    public boolean noDelay() throws IOException {
        return tcp.noDelay();
    }

    @Override
    public void setKeepAlive(boolean on) throws IOException {
        tcp.setKeepAlive(on);
    }

    @Override
    public boolean keepAlive() throws IOException {
        return tcp.keepAlive();
    }

    /** {@return decrypted bytes ready to read (what arrived still encrypted is not counted)} */
    @Override
    public int unread() {
        return buffered;
    }

    /** {@return TCP bytes not acknowledged (record headers and tags included)} */
    @Override
    public long unacknowledged() throws IOException {
        return tcp.unacknowledged();
    }
}
