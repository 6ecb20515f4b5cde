package dev.tcpscope.internal.tls;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.transport.StreamSocket;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The writing side of a {@link TlsSocket}: wraps plaintext and the engine's own messages into
 * records and sends them, under {@link #lock} (which guards {@code netOut}). Handshake output an
 * unwrap on the reading side asks for is sent by whoever holds the lock: the reader takes it if
 * it is free, otherwise it sets {@code wrapPending}, which the holder checks after releasing it.
 */
final class TlsOutbound {

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    final ReentrantLock lock = new ReentrantLock();

    private final StreamSocket tcp;
    private final SSLEngine engine;
    private TlsInbound inbound;              // set once, right after construction
    private ByteBuffer netOut;               // records wrapped, being sent
    private volatile boolean wrapPending;   // the reader's unwrap left handshake output to send
    private volatile long plainWritten;     // written under lock only

    TlsOutbound(StreamSocket tcp, SSLEngine engine) {
        this.tcp = tcp;
        this.engine = engine;
        this.netOut = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    }

    void readingSide(TlsInbound inbound) {
        this.inbound = inbound;
    }

    /** {@return plaintext bytes sealed into records so far} */
    long plainWritten() {
        return plainWritten;
    }

    /**
     * Wraps and sends all of {@code in} (lock held). Plaintext is counted when the engine seals
     * it into a record: a record is numbered, so once sealed it must be sent or the connection
     * aborted, and a write that fails after sealing any leaves the connection poisoned.
     */
    void wrapAll(ByteBuffer in, long deadline) throws IOException {
        while (in.hasRemaining()) {
            netOut.clear();
            SSLEngineResult r = engine.wrap(in, netOut);
            plainWritten += r.bytesConsumed();
            switch (r.getStatus()) {
                case BUFFER_OVERFLOW -> {
                    netOut = TlsInbound.grow(netOut, engine.getSession().getPacketBufferSize(), false);
                    continue;
                }
                case CLOSED -> {
                    // Not sent: what this wrap produced closes our output (in TLS 1.2, the
                    // answer to a close_notify the reader just took), which only finish() may.
                    netOut.clear();
                    throw new ConnectionClosedException("write: the peer closed the TLS connection (close_notify):"
                            + " nothing more can be sent (RFC 5246 7.2.1)", null);
                }
                default -> {
                }
            }
            send(deadline);
            switch (r.getHandshakeStatus()) {
                case NEED_TASK -> TlsInbound.runTasks(engine);
                case NEED_WRAP -> sendEngineOutput(deadline, false);
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> awaitPeerHandshake(deadline);
                default -> {
                }
            }
        }
    }

    /** Sends {@code netOut} as wrapped (lock held). */
    private void send(long deadline) throws IOException {
        netOut.flip();
        if (netOut.hasRemaining()) {
            tcp.write(MemorySegment.ofBuffer(netOut), deadline);
        }
        netOut.clear();
    }

    /**
     * Wraps and sends what the engine has to send by itself (lock held): handshake messages,
     * and, when {@code closing} (our close_notify, an abort's alert), the engine's last records.
     * Otherwise a wrap that closes the engine's output is not sent: in TLS 1.2 the engine
     * answers the peer's close_notify with its own at the next wrap, and only finish() may.
     *
     * <p>The records of consecutive wraps go out in one write (a handshake flight: ServerHello,
     * ChangeCipherSpec, then the encrypted messages, one record per wrap), sent before the engine
     * runs a delegated task and when it needs nothing more to wrap. One record per write put a
     * flight behind Nagle's algorithm on a socket without TCP_NODELAY (a server's, before its
     * handler can set it): the second record waited for the peer's acknowledgement of the first,
     * which a delayed ACK can hold for 40 ms; measured, a TcpServer with TLS completed 1% of its
     * handshakes in 50 ms or more.
     */
    void sendEngineOutput(long deadline, boolean closing) throws IOException {
        netOut.clear();
        try {
            while (true) {
                int before = netOut.position();
                SSLEngineResult r;
                try {
                    r = engine.wrap(EMPTY, netOut);
                } catch (SSLException | RuntimeException e) {
                    // The records wrapped before this failure are owed to the peer: the alert that
                    // follows is numbered after them (TLS 1.3's record sequence).
                    sendQueued(deadline, e);
                    throw e;
                }
                if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                    // The engine wraps only into a whole packet buffer's room: from the second record on.
                    netOut = TlsInbound.grow(netOut, before + engine.getSession().getPacketBufferSize(), true);
                    continue;
                }
                if (r.getStatus() == SSLEngineResult.Status.CLOSED && !closing) {
                    netOut.position(before); // this wrap's records are not sent; the earlier ones are
                    send(deadline);
                    return;
                }
                if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                    send(deadline); // what is ready goes out while the task runs (a signature, say)
                    TlsInbound.runTasks(engine);
                }
                if (r.bytesProduced() == 0 || r.getStatus() == SSLEngineResult.Status.CLOSED
                        || engine.getHandshakeStatus() != SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                    send(deadline);
                    return;
                }
            }
        } finally {
            // A flight of several records grew the buffer; a connection keeps it for its life.
            int packet = engine.getSession().getPacketBufferSize();
            if (netOut.capacity() > packet && netOut.position() == 0) {
                netOut = ByteBuffer.allocate(packet);
            }
        }
    }

    /** Sends what is queued in {@code netOut} before {@code failure} is thrown; a failing send is added to it. */
    private void sendQueued(long deadline, Exception failure) {
        if (netOut.position() == 0) {
            return;
        }
        try {
            send(deadline);
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /**
     * Handshake output the reader's unwrap produced (a KeyUpdate answer, a renegotiation
     * message): sent now if the lock is free, else by its holder when it releases it.
     */
    void sendHandshakeOutput(long deadline) throws IOException {
        wrapPending = true;
        sendPendingHandshakeOutput(deadline);
    }

    /** Sends the handshake output a reader left, if any and if the lock is free (called after releasing it). */
    void sendPendingHandshakeOutput(long deadline) throws IOException {
        while (wrapPending && !inbound.peerClosed() && lock.tryLock()) {
            try {
                wrapPending = false;
                sendEngineOutput(deadline, false);
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * The writer's wrap needs the peer's handshake messages (a TLS 1.2 renegotiation): unwraps
     * them itself when no reader is at work, keeping any data for the reader, else waits for the
     * reader to do it, sending what its unwraps produce (lock held).
     */
    private void awaitPeerHandshake(long deadline) throws IOException {
        while (engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_UNWRAP
                || engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_UNWRAP_AGAIN) {
            if (inbound.lock.tryLock()) {
                try {
                    if (!inbound.unwrapOnce(deadline) && inbound.receive(deadline) < 0) {
                        inbound.markTruncated();
                        throw new SSLHandshakeException("the peer ended the connection (FIN) during a TLS renegotiation");
                    }
                } finally {
                    inbound.lock.unlock();
                }
            } else {
                if (Deadline.remainingNanos(deadline) == 0) {
                    throw new SocketTimeoutException("write timed out during a TLS renegotiation");
                }
                LockSupport.parkNanos(this, 1_000_000L); // the reader unwraps meanwhile
            }
            if (wrapPending) {
                wrapPending = false;
                sendEngineOutput(deadline, false);
            }
        }
    }
}
