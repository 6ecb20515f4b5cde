package dev.tcpscope.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The other end of a connection under test, a plain JDK {@link Socket}: what it reads is what a
 * real peer of a tcpscope connection saw, every byte and then EOF (FIN) or
 * {@code SocketException: Connection reset} (RST); see {@link Seen}.
 *
 * <p>Reading to the end leaves the socket open, so that the test decides when this peer sends
 * its own FIN ({@link #sendFin()}, {@link #close()}); the {@code ...AndClose} forms close it at
 * once after the end, as a well-behaved peer does (nothing is left unread, so that is a FIN).
 * The asynchronous forms read on a platform thread, independent of the virtual-thread scheduler
 * under test.
 *
 * <p>Every blocking call is bounded by {@link #GUARD} (SO_TIMEOUT, connect timeout): only a hung
 * test comes near it, and reaching it is a failure ({@link Seen.End#ERROR}, or an exception),
 * never an outcome a test expects.
 */
public final class JdkPeer implements AutoCloseable {

    /** Bound of every blocking call; far longer than anything a test waits for. */
    public static final Duration GUARD = Duration.ofSeconds(60);

    private final Socket socket;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong received = new AtomicLong();

    private JdkPeer(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(guardMillis());
    }

    private static int guardMillis() {
        return (int) GUARD.toMillis();
    }

    /** {@return a peer connected to {@code address}} */
    public static JdkPeer connect(InetSocketAddress address) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(address, guardMillis());
            return new JdkPeer(s);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** {@return a peer connected to the loopback address at {@code port}} */
    public static JdkPeer connect(int port) throws IOException {
        return connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }

    /** {@return the underlying socket, e.g. to read EOF once more} */
    public Socket socket() {
        return socket;
    }

    /** {@return the peer's local port (the connection's remote port, seen from the other end)} */
    public int localPort() {
        return socket.getLocalPort();
    }

    /** Writes all of {@code bytes} (blocking). */
    public void write(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        written.addAndGet(bytes.length);
    }

    /** Writes {@code text} as UTF-8 (blocking), e.g. a request line. */
    public void write(String text) throws IOException {
        write(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes the first {@code total} bytes of the {@link Patterns stream pattern} (blocking). */
    public void writePattern(long total) throws IOException {
        OutputStream out = socket.getOutputStream();
        Patterns.write(total, (b, o, n) -> {
            out.write(b, o, n);
            written.addAndGet(n);
        });
    }

    /** Writes {@code bytes} on a platform thread; completes once written. */
    public CompletableFuture<Void> writeAsync(byte[] bytes) {
        return Forked.onPlatformThread("peer-writer", () -> {
            write(bytes);
            return null;
        });
    }

    /** {@return bytes written by this peer so far} */
    public long written() {
        return written.get();
    }

    /** Sends FIN (shutdownOutput): a clean end of what this peer sends; it can still read. */
    public void sendFin() throws IOException {
        socket.shutdownOutput();
    }

    /** Aborts: SO_LINGER {1, 0} and close, which sends RST. */
    public void reset() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    /** Reads exactly {@code n} bytes (blocking). @throws IOException if the stream ends first */
    public byte[] readExactly(int n) throws IOException {
        byte[] b = socket.getInputStream().readNBytes(n);
        if (b.length != n) {
            throw new IOException("end of stream after " + b.length + " of " + n + " bytes: "
                    + new String(b, StandardCharsets.UTF_8));
        }
        return b;
    }

    /** {@return bytes read so far by the reads to the end (also while one runs on another thread)} */
    public long received() {
        return received.get();
    }

    /** Reads until the stream ends, on the calling thread; the socket stays open. */
    public Seen readToEnd() {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buffer = new byte[64 * 1024];
        try {
            InputStream in = socket.getInputStream();
            for (int n; (n = in.read(buffer)) >= 0; ) {
                all.write(buffer, 0, n);
                received.addAndGet(n);
            }
            return new Seen(all.toByteArray(), Seen.End.EOF, null);
        } catch (IOException e) {
            return new Seen(all.toByteArray(), Seen.End.of(e), e);
        }
    }

    /** Reads until the stream ends, then closes the socket. */
    public Seen readToEndAndClose() {
        try {
            return readToEnd();
        } finally {
            close();
        }
    }

    /** {@link #readToEnd()} on a new platform thread. */
    public CompletableFuture<Seen> readToEndAsync() {
        return Forked.onPlatformThread("peer-reader", this::readToEnd);
    }

    /** {@link #readToEndAndClose()} on a new platform thread. */
    public CompletableFuture<Seen> readToEndAndCloseAsync() {
        return Forked.onPlatformThread("peer-reader", this::readToEndAndClose);
    }

    /** Closes the socket: FIN, or RST if bytes were left unread. */
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

    /** A JDK {@link ServerSocket} on the loopback address that accepts peers. */
    public static final class Server implements AutoCloseable {
        private final ServerSocket socket;

        private Server(ServerSocket socket) {
            this.socket = socket;
        }

        /** {@return a server on an ephemeral loopback port} */
        public static Server open() throws IOException {
            return open(0);
        }

        /**
         * {@return a server whose accepted sockets receive into a buffer of about
         * {@code receiveBuffer} bytes (0: the default)}: with a small one, a peer that does not
         * read soon stops acknowledging.
         */
        public static Server open(int receiveBuffer) throws IOException {
            ServerSocket s = new ServerSocket();
            try {
                if (receiveBuffer > 0) {
                    s.setReceiveBufferSize(receiveBuffer); // before bind: accepted sockets inherit it
                }
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                s.setSoTimeout(guardMillis());
                return new Server(s);
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
        }

        /** {@return where to connect} */
        public InetSocketAddress address() {
            return new InetSocketAddress(socket.getInetAddress(), socket.getLocalPort());
        }

        /** {@return the port to connect to} */
        public int port() {
            return socket.getLocalPort();
        }

        /** {@return the next connection} */
        public JdkPeer accept() throws IOException {
            Socket accepted = socket.accept();
            try {
                return new JdkPeer(accepted);
            } catch (IOException | RuntimeException e) {
                accepted.close();
                throw e;
            }
        }

        /**
         * On a platform thread: accepts the next connection, reads it to its end and closes it;
         * for when the connect happens inside the code under test.
         */
        public CompletableFuture<Seen> acceptReadToEndAndCloseAsync() {
            return Forked.onPlatformThread("peer-accept-read", () -> accept().readToEndAndClose());
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
