package dev.tcpscope.internal.tls;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.FinishResult;
import dev.tcpscope.PeerEnding;
import dev.tcpscope.TlsTruncationException;
import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.transport.FileCopy;
import dev.tcpscope.internal.transport.StreamSocket;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSession;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.util.Set;
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
 * <p>Threads: one reader ({@link TlsInbound}, under its lock) and one writer ({@link TlsOutbound},
 * under its lock) at once, as the {@link SSLEngine} allows wrap and unwrap to run concurrently;
 * the handshake holds both. Handshake messages the reader's unwrap asks to send (a TLS 1.3
 * KeyUpdate answer, a TLS 1.2 renegotiation) are sent by whoever holds the writer's lock (see
 * {@link TlsOutbound}). A TLS failure is remembered ({@code fatal}) and reported to every later
 * call on every thread; a truncation, to every later read.
 */
public final class TlsSocket implements StreamSocket {

    /** How long an abort may wait for the socket to take a pending fatal alert before its RST. */
    private static final long ALERT_WRITE_NANOS = 100_000_000L;

    private final StreamSocket tcp;
    private final SSLEngine engine;
    private final TlsInbound inbound;   // the reading side, under its own lock
    private final TlsOutbound outbound; // the writing side, under its own lock
    private final ReentrantLock readLock;
    private final ReentrantLock writeLock;

    private volatile IOException fatal;     // the first TLS failure: every later call reports it
    private volatile boolean outputClosed;  // our close_notify went out
    private volatile boolean ending;        // endGracefully began: its drain reads below us
    private volatile boolean handshaken;

    /** Wraps {@code tcp}, connected, with {@code engine} configured for its side; no handshake yet. */
    public TlsSocket(StreamSocket tcp, SSLEngine engine) {
        this.tcp = tcp;
        this.engine = engine;
        this.outbound = new TlsOutbound(tcp, engine);
        this.inbound = new TlsInbound(tcp, engine, outbound::sendHandshakeOutput);
        outbound.readingSide(inbound);
        this.readLock = inbound.lock;
        this.writeLock = outbound.lock;
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
                        case NEED_TASK -> TlsInbound.runTasks(engine);
                        case NEED_WRAP -> outbound.sendEngineOutput(deadline, false);
                        case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                            if (!inbound.unwrapOnce(deadline) && inbound.receive(deadline) < 0) {
                                throw new SSLHandshakeException("the peer ended the connection (FIN) during the TLS handshake");
                            }
                            if (inbound.peerClosed()) {
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
                if (inbound.hasPlaintext()) {
                    return inbound.deliver(buffer);
                }
                if (inbound.peerClosed()) {
                    return -1;
                }
                throwIfReadFailed();
                if (!inbound.unwrapOnce(deadline) && inbound.receive(deadline) < 0) {
                    inbound.markTruncated();
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
        if (inbound.truncated()) {
            throw truncation();
        }
    }

    private TlsTruncationException truncation() {
        return new TlsTruncationException("read: the peer ended the TCP connection (FIN) without TLS close_notify:"
                + " its data may be truncated");
    }

    // ---------------------------------------------------------------- writing

    /**
     * Wraps and sends all of {@code buffer}. {@link #bytesWritten()} counts plaintext when the
     * engine seals it into a record ({@link TlsOutbound#wrapAll}): a write that fails after
     * sealing any leaves the connection poisoned, which is what the counter tells the connection
     * above.
     */
    @Override
    public void write(MemorySegment buffer, long deadline) throws IOException {
        if (buffer.byteSize() > 0) {
            buffer.get(ValueLayout.JAVA_BYTE, 0); // the caller's mistake is the caller's exception, nothing sent
        }
        Deadline.lock(outbound.lock, deadline, "write");
        try {
            checkWritable("write");
            outbound.wrapAll(buffer.asByteBuffer(), deadline);
        } catch (SSLException e) {
            throw remember(e);
        } finally {
            outbound.lock.unlock();
        }
        outbound.sendPendingHandshakeOutput(deadline);
    }

    /**
     * Each segment in order, as {@link #write}: the engine seals records from one buffer at a
     * time, so a gathering write saves no system call here (the records of a write go out
     * together anyway).
     */
    @Override
    public void writeGathering(MemorySegment[] buffers, long deadline) throws IOException {
        for (MemorySegment buffer : buffers) {
            if (buffer.byteSize() > 0) {
                buffer.get(ValueLayout.JAVA_BYTE, 0); // every segment checked before anything is sent
            }
        }
        for (MemorySegment buffer : buffers) {
            write(buffer, deadline);
        }
    }

    /** Read and sealed in Java ({@link FileCopy}): the kernel cannot encrypt what sendfile(2) sends. */
    @Override
    public long sendFile(java.nio.file.Path file, long position, long count, long deadline) throws IOException {
        return FileCopy.send(this, file, position, count, deadline);
    }

    private void checkWritable(String operation) throws IOException {
        IOException f = failure(operation);
        if (f != null) {
            throw f;
        }
        if (outputClosed) {
            throw tcp.closedException(operation);
        }
        if (inbound.peerClosed() && !isTls13()) {
            throw new ConnectionClosedException(operation + ": the peer closed the TLS 1.2 connection (close_notify):"
                    + " nothing more can be sent (RFC 5246 7.2.1)", null);
        }
    }

    private boolean isTls13() {
        return "TLSv1.3".equals(engine.getSession().getProtocol());
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
            outbound.sendEngineOutput(deadline, true);
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
        if (fatal != null && !inbound.peerClosed() && !outputClosed && !tcp.hasFailed() && writeLock.tryLock()) {
            try {
                outbound.sendEngineOutput(System.nanoTime() + ALERT_WRITE_NANOS, true);
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
        return inbound.plainRead();
    }

    /** {@return plaintext bytes sealed into records (see {@link #write})} */
    @Override
    public long bytesWritten() {
        return outbound.plainWritten();
    }

    @Override
    public InetSocketAddress localAddress() {
        return tcp.localAddress();
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return tcp.remoteAddress();
    }

    /** The TCP socket's options: TLS adds none of its own. */
    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return tcp.supportedOptions();
    }

    @Override
    public <T> void setOption(SocketOption<T> option, T value) throws IOException {
        tcp.setOption(option, value);
    }

    @Override
    public <T> T getOption(SocketOption<T> option) throws IOException {
        return tcp.getOption(option);
    }

    /** {@return decrypted bytes ready to read (what arrived still encrypted is not counted)} */
    @Override
    public int unread() {
        return inbound.buffered();
    }

    /** {@return TCP bytes not acknowledged (record headers and tags included)} */
    @Override
    public long unacknowledged() throws IOException {
        return tcp.unacknowledged();
    }
}
