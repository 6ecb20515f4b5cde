package dev.tcpscope.oracle;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * The JDK peer's TLS layer, for the oracle's TLS scenarios: the JDK's {@link SSLEngine} over the
 * peer's own non-blocking {@link SocketChannel}, driven by the peer's one thread. It sees every
 * record and every TCP event itself, so it tells the three endings apart exactly, where an
 * {@code SSLSocket} reads a FIN without {@code close_notify} as -1 unless a once-per-JVM property
 * says otherwise:
 * <ul>
 *   <li>the other side's {@code close_notify} is remembered ({@link #closeNotifyReceived()});
 *       after it, reads go on below TLS (discarding) until TCP's end;</li>
 *   <li>{@link #read} returns -1 for TCP's FIN, whether or not a {@code close_notify} came first
 *       (without one: a truncation), after every record that came before it;</li>
 *   <li>a RST is the channel's own exception ("Connection reset"), as on a plain peer.</li>
 * </ul>
 * Writes seal plaintext into records; what the socket did not take yet is sent by {@link #flush}
 * (the peer's loop keeps asking for OP_WRITE while {@link #pendingOutput()}).
 */
final class TlsPeerWire {

    /** The engine's outbound side is closed (TLS 1.2 after the other side's close_notify): nothing more can be sent. */
    static final class OutboundClosed extends IOException {
        OutboundClosed() {
            super("the TLS engine's outbound side is closed");
        }
    }

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final SocketChannel channel;
    private final SSLEngine engine;
    private final ByteBuffer netIn;   // ciphertext received, not yet unwrapped (write mode)
    private final ByteBuffer netOut;  // ciphertext sealed, not yet sent (write mode)
    private final ByteBuffer appIn;   // plaintext unwrapped, not yet read (read mode)
    private final ByteBuffer discard = ByteBuffer.allocate(16 * 1024);
    private boolean closeNotify;      // the other side's close_notify arrived
    private boolean underflow;        // netIn holds only part of a record
    private boolean finPending, finSent;
    private IOException lateWriteFailure; // a write that failed once the handshake was complete

    private TlsPeerWire(SocketChannel channel, SSLEngine engine) {
        this.channel = channel;
        this.engine = engine;
        int packet = engine.getSession().getPacketBufferSize();
        this.netIn = ByteBuffer.allocate(2 * packet);
        this.netOut = ByteBuffer.allocate(2 * packet);
        this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize() + 1024).flip();
    }

    /** {@return the TLS layer of {@code channel}: the client's end if {@code client}, TLS {@code version} only} */
    static TlsPeerWire over(SocketChannel channel, boolean client, String version) {
        SSLEngine engine = client ? OracleTls.clientContext().createSSLEngine(OracleTls.SERVER_NAME, 443)
                : OracleTls.serverContext().createSSLEngine();
        engine.setUseClientMode(client);
        SSLParameters parameters = engine.getSSLParameters();
        OracleTls.only(version).accept(parameters);
        engine.setSSLParameters(parameters);
        return new TlsPeerWire(channel, engine);
    }

    /**
     * The handshake, waiting on {@code key}'s selector for the socket, at most {@code guard}.
     * Throws the channel's exception for a reset, {@link EOFException} for a FIN, the engine's
     * {@link SSLException} for a refused handshake.
     */
    void handshake(SelectionKey key, Duration guard) throws IOException {
        long deadline = System.nanoTime() + guard.toNanos();
        engine.beginHandshake();
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_TASK -> runTasks();
                case NEED_WRAP -> {
                    if (engine.wrap(EMPTY, netOut).getStatus() == SSLEngineResult.Status.CLOSED) {
                        throw new SSLException("the engine closed during the handshake");
                    }
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    while (!flush()) {
                        await(key, SelectionKey.OP_WRITE, deadline);
                    }
                    SSLEngineResult r = unwrap();
                    if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                        throw new SSLException("close_notify during the handshake");
                    }
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                        int n = channel.read(netIn);
                        if (n < 0) {
                            throw new EOFException("FIN during the TLS handshake");
                        } else if (n == 0) {
                            await(key, SelectionKey.OP_READ, deadline);
                        }
                    }
                }
                default -> { // FINISHED, NOT_HANDSHAKING
                    try {
                        while (!flush()) {
                            await(key, SelectionKey.OP_WRITE, deadline);
                        }
                    } catch (IOException e) {
                        // Complete, but its last message (TLS 1.3: the server's session ticket, sent
                        // after the client's Finished) met the other side's end: a write's failure,
                        // for the caller to treat as one; what came before the end is still to read.
                        lateWriteFailure = e;
                    }
                    return;
                }
            }
        }
    }

    /**
     * Reads plaintext into {@code dst} (at most what it has room for).
     *
     * @return bytes read; 0 if none is there yet; -1 at TCP's FIN (see {@link #closeNotifyReceived()})
     */
    int read(ByteBuffer dst) throws IOException {
        while (true) {
            if (appIn.hasRemaining()) {
                int n = Math.min(dst.remaining(), appIn.remaining());
                dst.put(appIn.slice(appIn.position(), n));
                appIn.position(appIn.position() + n);
                return n;
            }
            if (!closeNotify && netIn.position() > 0 && !underflow) {
                SSLEngineResult r = unwrap();
                runTasks();
                if (r.getStatus() == SSLEngineResult.Status.CLOSED
                        || (r.getStatus() == SSLEngineResult.Status.OK && r.bytesConsumed() > 0)) {
                    continue;
                }
                underflow = true; // part of a record: more bytes first
            }
            int n = channel.read(closeNotify ? discard.clear() : netIn);
            if (n < 0) {
                return -1;
            } else if (n == 0) {
                return 0;
            }
            underflow = false;
        }
    }

    /** {@return whether a read would find something without waiting for the socket} */
    boolean hasBufferedInput() {
        return appIn.hasRemaining() || (!closeNotify && netIn.position() > 0 && !underflow);
    }

    /**
     * Seals plaintext from {@code src} into a record and sends what the socket takes.
     *
     * @return plaintext bytes taken; 0 while earlier records are still waiting for the socket
     * @throws OutboundClosed after TLS 1.2's close_notify from the other side
     */
    int write(ByteBuffer src) throws IOException {
        if (!flush()) {
            return 0;
        }
        SSLEngineResult r = engine.wrap(src, netOut);
        if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
            throw new OutboundClosed();
        }
        flush();
        return r.bytesConsumed();
    }

    /**
     * Half-close: {@code close_notify}, then TCP's FIN once every record before it is sent; or,
     * {@code truncate}, the FIN alone (a truncation, which the other side must never read as an end).
     */
    void shutdownOutput(boolean truncate) throws IOException {
        if (!truncate) {
            engine.closeOutbound();
            engine.wrap(EMPTY, netOut);
        }
        finPending = true;
        flush();
    }

    /** Sends what the socket takes of the sealed records (then the half-close's FIN). {@return whether nothing is left} */
    boolean flush() throws IOException {
        netOut.flip();
        try {
            while (netOut.hasRemaining() && channel.write(netOut) > 0) {
                // as much as the socket takes now
            }
        } finally {
            netOut.compact();
        }
        if (netOut.position() == 0 && finPending && !finSent) {
            finSent = true;
            channel.shutdownOutput();
        }
        return netOut.position() == 0;
    }

    /** {@return whether sealed records (or the half-close's FIN) still wait for the socket} */
    boolean pendingOutput() {
        return netOut.position() > 0 || (finPending && !finSent);
    }

    /** {@return the failure of the handshake's last write, once (see {@link #handshake}); {@code null} if none} */
    IOException takeLateWriteFailure() {
        IOException e = lateWriteFailure;
        lateWriteFailure = null;
        return e;
    }

    /** {@return whether the other side's close_notify has arrived} */
    boolean closeNotifyReceived() {
        return closeNotify;
    }

    private SSLEngineResult unwrap() throws SSLException {
        netIn.flip();
        appIn.compact();
        try {
            SSLEngineResult r = engine.unwrap(netIn, appIn);
            if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                closeNotify = true;
            } else if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                throw new SSLException("a record larger than the engine's application buffer");
            }
            return r;
        } finally {
            appIn.flip();
            netIn.compact();
        }
    }

    private void runTasks() {
        for (Runnable task; (task = engine.getDelegatedTask()) != null; ) {
            task.run();
        }
    }

    private static void await(SelectionKey key, int ops, long deadline) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException("the TLS handshake passed the peer's guard");
        }
        key.interestOps(ops);
        key.selector().select(Math.max(1, Math.min(50, left / 1_000_000)));
        key.selector().selectedKeys().clear();
    }
}
