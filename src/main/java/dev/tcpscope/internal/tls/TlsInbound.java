package dev.tcpscope.internal.tls;

import dev.tcpscope.internal.transport.StreamSocket;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The reading side of a {@link TlsSocket}: the TLS bytes received and not yet unwrapped
 * ({@code netIn}), the plaintext unwrapped and not yet read ({@code appIn}), and whether the
 * peer's {@code close_notify} was read. Every method but the getters runs under {@link #lock},
 * held by the socket's reader, its handshake, or its writer while it drives a renegotiation.
 */
final class TlsInbound {

    /** What the socket does when an unwrap leaves handshake output to send (a KeyUpdate answer...). */
    interface HandshakeOutput {
        void send(long deadline) throws IOException;
    }

    final ReentrantLock lock = new ReentrantLock();

    private final StreamSocket tcp;
    private final SSLEngine engine;
    private final HandshakeOutput handshakeOutput;
    private ByteBuffer netIn;             // write mode
    private ByteBuffer appIn;             // read mode
    private volatile boolean peerClosed;  // the peer's close_notify was read
    private volatile boolean truncated;   // the peer's FIN came before its close_notify
    private volatile int buffered;        // appIn.remaining(), for unread() on any thread
    private volatile long plainRead;      // written under lock only

    TlsInbound(StreamSocket tcp, SSLEngine engine, HandshakeOutput handshakeOutput) {
        this.tcp = tcp;
        this.engine = engine;
        this.handshakeOutput = handshakeOutput;
        this.netIn = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize()).flip();
    }

    /** {@return whether the peer's close_notify was read} */
    boolean peerClosed() {
        return peerClosed;
    }

    /** Records that the peer's FIN came before its close_notify: every later read reports it. */
    void markTruncated() {
        truncated = true;
    }

    /** {@return whether the peer's FIN came before its close_notify} */
    boolean truncated() {
        return truncated;
    }

    /** {@return plaintext bytes unwrapped so far} */
    long plainRead() {
        return plainRead;
    }

    /** {@return plaintext bytes unwrapped and not yet read} */
    int buffered() {
        return buffered;
    }

    boolean hasPlaintext() {
        return appIn.hasRemaining();
    }

    /** Copies plaintext into {@code buffer}; {@return how many bytes} */
    int deliver(MemorySegment buffer) {
        int n = (int) Math.min(appIn.remaining(), buffer.byteSize());
        MemorySegment.copy(MemorySegment.ofBuffer(appIn), 0, buffer, 0, n);
        appIn.position(appIn.position() + n);
        buffered = appIn.remaining();
        return n;
    }

    /**
     * Unwraps what {@code netIn} holds into {@code appIn}; runs what the handshake asks for.
     * {@return false if more bytes must be received first}
     */
    boolean unwrapOnce(long deadline) throws IOException {
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
                // answer is our close_notify, which only the graceful ending sends.)
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
            case NEED_TASK -> runTasks(engine);
            case NEED_WRAP -> handshakeOutput.send(deadline);
            default -> {
            }
        }
        // A record that yields no plaintext (a KeyUpdate, a NewSessionTicket) was still consumed:
        // more may be buffered behind it, to unwrap before receiving again.
        return r.bytesConsumed() > 0 || r.bytesProduced() > 0;
    }

    /** Receives more TLS bytes into {@code netIn}. {@return the count, or -1 for the peer's FIN} */
    int receive(long deadline) throws IOException {
        if (!netIn.hasRemaining()) {
            netIn = grow(netIn, netIn.capacity() * 2, true);
        }
        int n = tcp.read(MemorySegment.ofBuffer(netIn), deadline);
        if (n > 0) {
            netIn.position(netIn.position() + n);
        }
        return n;
    }

    /** Runs the engine's delegated tasks in the calling thread. */
    static void runTasks(SSLEngine engine) {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    /** {@return a buffer of at least {@code atLeast} bytes (and twice the old) holding {@code buffer}'s content, in the same mode} */
    static ByteBuffer grow(ByteBuffer buffer, int atLeast, boolean writeMode) {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(atLeast, buffer.capacity() * 2));
        if (writeMode) {
            buffer.flip();
        }
        bigger.put(buffer);
        return writeMode ? bigger : bigger.flip();
    }
}
