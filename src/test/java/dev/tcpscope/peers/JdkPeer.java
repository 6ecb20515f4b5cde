package dev.tcpscope.peers;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The other end of a connection under test, a plain {@link java.net.Socket} of the JDK: what it
 * reads is what the peer of a tcpscope connection really saw. A JDK socket reports a RST as
 * {@code SocketException: Connection reset} after the bytes that arrived before it.
 *
 * <p>Blocking calls run on platform threads, independent of the virtual-thread scheduler the
 * library uses.
 */
public final class JdkPeer implements AutoCloseable {

    private final Socket socket;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong received = new AtomicLong();

    private JdkPeer(Socket socket) {
        this.socket = socket;
    }

    /** {@return a peer connected to {@code address}} */
    public static JdkPeer connect(InetSocketAddress address) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(address, 10_000);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return new JdkPeer(s);
    }

    /** {@return a peer connected to the loopback address at {@code port}} */
    public static JdkPeer connect(int port) throws IOException {
        return connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }

    /** {@return the next connection accepted by {@code server} (waits at most 10 s)} */
    public static JdkPeer accept(ServerSocket server) throws IOException {
        server.setSoTimeout(10_000);
        return new JdkPeer(server.accept());
    }

    /** {@return the underlying socket} */
    public Socket socket() {
        return socket;
    }

    /** {@return the peer's local port (our connection's remote port)} */
    public int localPort() {
        return socket.getLocalPort();
    }

    /** Writes {@code bytes} (blocking). */
    public void write(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        written.addAndGet(bytes.length);
    }

    /** Writes {@code total} pattern bytes (blocking). */
    public void writePattern(long total) throws IOException {
        OutputStream out = socket.getOutputStream();
        Patterns.write(total, (b, o, n) -> {
            out.write(b, o, n);
            written.addAndGet(n);
        });
    }

    /** {@return bytes written by this peer so far} */
    public long written() {
        return written.get();
    }

    /** {@return bytes read so far by {@link #readAll()} (also while it runs on another thread)} */
    public long received() {
        return received.get();
    }

    /** Reads exactly {@code n} bytes (blocking; at most 10 s). */
    public byte[] readExactly(int n) throws IOException {
        socket.setSoTimeout(10_000);
        byte[] b = socket.getInputStream().readNBytes(n);
        if (b.length != n) {
            throw new IOException("end of stream after " + b.length + " of " + n + " bytes");
        }
        return b;
    }

    /** Sends FIN (shutdownOutput): a clean end of what this peer sends. */
    public void sendFin() throws IOException {
        socket.shutdownOutput();
    }

    /** Aborts: SO_LINGER 0 and close, which sends RST. */
    public void reset() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    /** Reads until the end of the stream, on the calling thread; see {@link Received}. */
    public Received readAll() {
        MessageDigest digest = Patterns.newDigest();
        long count = 0;
        byte[] buffer = new byte[64 * 1024];
        try {
            socket.setSoTimeout(0);
            InputStream in = socket.getInputStream();
            while (true) {
                int n = in.read(buffer);
                if (n < 0) {
                    return new Received(count, HexFormat.of().formatHex(digest.digest()), Received.End.EOF, null);
                }
                digest.update(buffer, 0, n);
                count += n;
                received.addAndGet(n);
            }
        } catch (IOException e) {
            Received.End end = e instanceof SocketException && String.valueOf(e.getMessage()).contains("reset")
                    ? Received.End.RESET : Received.End.ERROR;
            return new Received(count, HexFormat.of().formatHex(digest.digest()), end, e);
        }
    }

    /** Reads until the end of the stream on a new platform thread. */
    public CompletableFuture<Received> readAllAsync() {
        return readAllAsync(false);
    }

    /**
     * Reads until the end of the stream on a new platform thread; if {@code closeAtEnd}, closes
     * the socket once the end is seen (after an EOF that sends our FIN, cleanly: nothing is left
     * unread).
     */
    public CompletableFuture<Received> readAllAsync(boolean closeAtEnd) {
        CompletableFuture<Received> result = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("jdk-peer-reader").start(() -> {
            try {
                Received r = readAll();
                if (closeAtEnd) {
                    close();
                }
                result.complete(r);
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a JDK socket does not fail in a way a test cares about
        }
    }

    @Override
    public String toString() {
        return "JdkPeer[" + socket + "]";
    }
}
