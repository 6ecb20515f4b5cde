package dev.tcpscope.oracle;

import dev.tcpscope.testing.Patterns;
import dev.tcpscope.testing.Seen;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.CRC32;

/**
 * One connection of the JDK peer ({@link JdkPeerDriver}): a platform thread of its own running a
 * selector loop that interleaves reads and writes as its {@link PeerPlan} says, over plain TCP or,
 * with a TLS version, over a {@link TlsPeerWire}; and the {@link PeerSession} through which the
 * runner and the program await its events and its report.
 */
final class JdkPeerLoop implements PeerSession {

    private static final byte[] BLOCK = Patterns.bytes(0, Patterns.PERIOD * 257);
    private static final int MAX_WRITE = Patterns.PERIOD * 256;

    private final String id;
    private final PeerPlan plan;
    private final ServerSocketChannel listener;
    private final int connectPort;
    private final CompletableFuture<Boolean> connected = new CompletableFuture<>();
    private final CompletableFuture<Boolean> resetSent = new CompletableFuture<>();
    private final CompletableFuture<PeerReport> done = new CompletableFuture<>();
    private final CRC32 crc = new CRC32();
    private volatile boolean resumed;
    private volatile boolean cancelled;
    private volatile Selector selector;
    private SocketChannel channel;
    private SelectionKey key;
    private TlsPeerWire tls;        // null: plain TCP
    private long count, sent;
    private boolean stopped, halfClosed;
    private PeerReport.Seen seen;
    private String sendError;       // "ECONNRESET" or "EPIPE": the first failing write's report
    private long nextReadNanos;
    // A slow peer reads 4 KiB, then pauses 1 ms, as the Python peer does: counted in bytes, not
    // reads, since a TLS read returns one record, which may be far smaller (a 100-byte record per
    // millisecond made 932 KiB take 9 s, longer than the 5 s finish timeout: oracle seed 8e61b3dd4e3937c0).
    private static final int SLOW_READ_BYTES = 4096;
    private long slowBytesLeft = SLOW_READ_BYTES;
    private volatile long progressNanos = System.nanoTime();

    JdkPeerLoop(String id, PeerPlan plan, ServerSocketChannel listener, int connectPort) {
        this.id = id;
        this.plan = plan;
        this.listener = listener;
        this.connectPort = connectPort;
    }

    void start() {
        Thread.ofPlatform().daemon().name("oracle-jdk-peer-" + id).start(this::run);
    }

    @Override
    public int port() {
        return listener.socket().getLocalPort();
    }

    private void run() {
        try (Selector s = Selector.open()) {
            selector = s;
            channel = open();
            if (channel == null) {
                return;
            }
            channel.configureBlocking(false);
            key = channel.register(s, 0);
            if (plan.tlsVersion() != null && !handshake()) {
                return;
            }
            connected.complete(true);
            checkThresholds();
            maybeHalfClose();
            while (!done.isDone()) {
                step();
            }
        } catch (IOException | RuntimeException e) {
            finish(PeerReport.Seen.ERROR, "peer loop failed: " + e, false, "-");
        } finally {
            closeQuietly();
            connected.complete(false);
            resetSent.complete(false);
        }
    }

    private SocketChannel open() throws IOException {
        int guardMillis = (int) plan.guard().toMillis();
        if (listener != null) {
            try (listener) {
                listener.socket().setSoTimeout(guardMillis);
                return listener.socket().accept().getChannel();
            }
        }
        SocketChannel c = SocketChannel.open();
        try {
            if (plan.receiveBuffer() > 0) {
                c.setOption(StandardSocketOptions.SO_RCVBUF, plan.receiveBuffer());
            }
            c.socket().connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), connectPort), guardMillis);
            return c;
        } catch (IOException e) {
            c.close();
            boolean reset = Seen.End.of(e) == Seen.End.RESET;
            finish(reset ? PeerReport.Seen.RST : PeerReport.Seen.ERROR, "connect: " + e, false, "-");
            return null;
        }
    }

    /** The TLS handshake; {@return whether it completed} (if not, the report says how it ended) */
    private boolean handshake() {
        tls = TlsPeerWire.over(channel, listener == null, plan.tlsVersion());
        try {
            tls.handshake(key, plan.guard());
            IOException late = tls.takeLateWriteFailure();
            if (late != null) {
                noteSendError(late); // as any write's: the reads that follow say how the other side ended
            }
            return true;
        } catch (IOException e) {
            // A reset taken by a read ("Connection reset", SocketException) or by a write
            // ("Connection reset by peer", IOException: in TLS 1.3 the server's session ticket
            // is written after the client's Finished, when a client that already failed has reset).
            PeerReport.Seen how = String.valueOf(e.getMessage()).contains("Connection reset") ? PeerReport.Seen.RST
                    : e instanceof java.io.EOFException ? PeerReport.Seen.EOF : PeerReport.Seen.ERROR;
            finish(how, "handshake: " + e, false, "-");
            return false;
        }
    }

    private void step() throws IOException {
        boolean wantRead = wantRead();
        boolean wantWrite = wantWrite();
        key.interestOps((wantRead ? SelectionKey.OP_READ : 0) | (wantWrite ? SelectionKey.OP_WRITE : 0));
        boolean pausing = plan.slow() && seen == null && System.nanoTime() < nextReadNanos;
        if (wantRead && tls != null && tls.hasBufferedInput()) {
            selector.selectNow(); // records already here: no need to wait for the socket
        } else {
            selector.select(pausing ? 1 : 50);
        }
        selector.selectedKeys().clear();
        if (cancelled) {
            finish(PeerReport.Seen.ERROR, "cancelled", false, "-");
            return;
        }
        if (tls != null && tls.pendingOutput() && sendError == null) {
            flushTls();
        }
        if (wantWrite()) {
            write();
        }
        if (wantRead()) {
            read();
        }
        if (seen == PeerReport.Seen.EOF && !wantWrite() && !done.isDone()) {
            closeAfterEnd();
        } else if (!done.isDone() && System.nanoTime() - progressNanos > plan.guard().toNanos()
                && !(stopped && !resumed)) {
            finish(PeerReport.Seen.ERROR, "guard: no progress for " + plan.guard().toSeconds() + "s", false, "-");
        }
    }

    private boolean wantRead() {
        return seen == null && !done.isDone() && !(stopped && !resumed) && System.nanoTime() >= nextReadNanos;
    }

    private boolean wantWrite() {
        return !done.isDone() && sendError == null && (sent < plan.sends() || (tls != null && tls.pendingOutput()))
                && seen != PeerReport.Seen.RST;
    }

    private void read() throws IOException {
        long want = plan.slow() ? slowBytesLeft : 65536;
        if (plan.stopAfter() >= 0 && !resumed) {
            want = Math.min(want, plan.stopAfter() - count);
        }
        if (plan.resetAfter() >= 0) {
            want = Math.min(want, plan.resetAfter() - count);
        }
        if (want <= 0) {
            return;
        }
        ByteBuffer buffer = ByteBuffer.allocate((int) want);
        int n;
        try {
            n = tls == null ? channel.read(buffer) : tls.read(buffer);
        } catch (IOException e) {
            if (Seen.End.of(e) == Seen.End.RESET) {
                end(PeerReport.Seen.RST);
            } else {
                finish(PeerReport.Seen.ERROR, "read: " + e, false, "-");
            }
            return;
        }
        if (n == 0) {
            return;
        }
        progressNanos = System.nanoTime();
        if (n < 0) {
            // A write took the reset first: the read then returns -1, and the write's report stands.
            end("ECONNRESET".equals(sendError) ? PeerReport.Seen.RST : PeerReport.Seen.EOF);
            return;
        }
        crc.update(buffer.array(), 0, n);
        count += n;
        if (plan.slow()) {
            slowBytesLeft -= n;
            if (slowBytesLeft <= 0) {
                slowBytesLeft = SLOW_READ_BYTES;
                nextReadNanos = System.nanoTime() + 1_000_000;
            }
        }
        checkThresholds();
    }

    private void write() throws IOException {
        if (sent == plan.sends()) {
            return; // only sealed TLS records left, which flushTls() sends
        }
        int offset = (int) (sent % Patterns.PERIOD);
        int n = (int) Math.min(MAX_WRITE, plan.sends() - sent);
        int written;
        try {
            ByteBuffer bytes = ByteBuffer.wrap(BLOCK, offset, n);
            written = tls == null ? channel.write(bytes) : tls.write(bytes);
        } catch (IOException e) {
            noteSendError(e);
            return;
        }
        sent += written;
        if (written > 0) {
            progressNanos = System.nanoTime();
        }
        maybeHalfClose();
    }

    /** Sends sealed TLS records the socket did not take yet. */
    private void flushTls() {
        try {
            tls.flush();
        } catch (IOException e) {
            noteSendError(e);
        }
    }

    /** A failed write: the first one's reset is kept (see the class comment); anything else is an error. */
    private void noteSendError(IOException e) {
        String message = String.valueOf(e.getMessage());
        if (message.contains("Broken pipe")) {
            sendError = "EPIPE";
        } else if (message.contains("Connection reset")) {
            sendError = "ECONNRESET";
        } else if (e instanceof TlsPeerWire.OutboundClosed) {
            sendError = "CLOSED"; // TLS 1.2: the other side's close_notify closed both directions
        } else {
            finish(PeerReport.Seen.ERROR, "write: " + e, false, "-");
        }
    }

    /** FIN once every byte is sent (at once when there is nothing to send). */
    private void maybeHalfClose() {
        if (sent == plan.sends() && plan.halfClose() && !halfClosed && !done.isDone()) {
            halfClosed = true;
            try {
                if (tls == null) {
                    channel.shutdownOutput();
                } else {
                    tls.shutdownOutput(plan.truncate()); // close_notify (unless truncating), then FIN
                }
            } catch (IOException alreadyReset) {
                // the reads that follow report the reset
            }
        }
    }

    private void checkThresholds() throws IOException {
        if (done.isDone()) {
            return;
        }
        if (plan.resetAfter() >= 0 && count >= plan.resetAfter()) {
            reset();
            resetSent.complete(true);
            finish(PeerReport.Seen.NONE, "-", true, "-");
            return;
        }
        if (plan.stopAfter() >= 0 && count >= plan.stopAfter() && !stopped && !resumed) {
            stopped = true;
        }
    }

    private void end(PeerReport.Seen how) throws IOException {
        seen = how;
        if (how == PeerReport.Seen.EOF && wantWrite()) {
            return; // sends still owed go out first (step() closes once they are done)
        }
        closeAfterEnd();
    }

    private void closeAfterEnd() throws IOException {
        if (seen == PeerReport.Seen.EOF && plan.resetOnEof()) {
            reset();
            finish(PeerReport.Seen.EOF, "-", true, "-");
            return;
        }
        key.cancel();
        selector.selectNow();
        channel.close(); // after EOF nothing is left unread: FIN
        finish(seen, "-", false, "-");
    }

    /** RST: SO_LINGER {1,0}, then a close the selector does not defer. */
    private void reset() throws IOException {
        channel.setOption(StandardSocketOptions.SO_LINGER, 0);
        key.cancel();
        selector.selectNow(); // deregistered: the close below is the real close(2)
        channel.close();
    }

    private void finish(PeerReport.Seen how, String detail, boolean peerReset, String state) {
        if (tls != null && how == PeerReport.Seen.EOF) {
            how = tls.closeNotifyReceived() ? PeerReport.Seen.EOF : PeerReport.Seen.TRUNCATED;
        } else if (tls != null && how == PeerReport.Seen.RST && tls.closeNotifyReceived()) {
            how = PeerReport.Seen.CLOSE_NOTIFY_THEN_RST;
        }
        done.complete(new PeerReport(how, count, crc.getValue(), sent, peerReset, state, detail.replace(' ', '_')));
    }

    private void closeQuietly() {
        try {
            if (channel != null && channel.isOpen()) {
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
                if (key != null && selector.isOpen()) { // run() closed its selector first: that deregistered the key
                    key.cancel();
                    selector.selectNow();
                }
                channel.close();
            }
            if (listener != null) {
                listener.close();
            }
        } catch (IOException | RuntimeException ignored) {
            // ending a loop that failed: nothing more to report
        }
    }

    @Override
    public boolean awaitConnected(Duration timeout) {
        return await(connected, timeout);
    }

    @Override
    public boolean awaitResetSent(Duration timeout) {
        return await(resetSent, timeout);
    }

    /** Waits for {@code event}, or for the end of the connection (then the event did not happen). */
    private boolean await(CompletableFuture<Boolean> event, Duration timeout) {
        try {
            return CompletableFuture.anyOf(event, done).thenApply(x -> event.getNow(false))
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void resume() {
        resumed = true;
        progressNanos = System.nanoTime();
        Selector s = selector;
        if (s != null) {
            s.wakeup();
        }
    }

    @Override
    public PeerReport awaitDone(Duration timeout) {
        try {
            return done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            cancelled = true;
            Selector s = selector;
            if (s != null) {
                s.wakeup();
            }
            try {
                listener.close(); // wakes an accept that never got its connection
            } catch (IOException | RuntimeException ignored) {
                // only a wake-up
            }
            return null;
        } catch (ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
