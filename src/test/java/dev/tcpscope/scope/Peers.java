package dev.tcpscope.scope;

import org.opentest4j.AssertionFailedError;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The far ends of the connections that the scope and relay tests make: plain JDK sockets, whose
 * reads tell what a real peer observed ("every byte, then EOF" or "Connection reset"). Blocking
 * work runs on platform threads, independent of the virtual-thread scheduler under test, and
 * every wait is bounded so that a broken library fails a test instead of hanging it.
 */
public final class Peers {

    /** Bound of every wait here: generous for a loaded 2-core machine. */
    public static final long WAIT_SECONDS = 20;

    private Peers() {}

    /** {@return {@code n} bytes of a pattern that differs per {@code seed}, to verify content} */
    public static byte[] pattern(int n, int seed) {
        byte[] bytes = new byte[n];
        for (int i = 0; i < n; i++) {
            bytes[i] = (byte) (i * 31 + seed * 7 + (i >>> 8));
        }
        return bytes;
    }

    /** How a peer's read of the stream ended. */
    public enum End { EOF, RESET, ERROR }

    /**
     * What a peer read until its stream ended.
     *
     * @param data    every byte read before the end
     * @param end     how the stream ended
     * @param failure the exception that ended it, {@code null} for EOF
     */
    public record Seen(byte[] data, End end, Throwable failure) {

        /** Asserts the peer read exactly {@code expected}, then EOF (our FIN, no RST). */
        public Seen assertEof(byte[] expected) {
            if (end != End.EOF) {
                throw new AssertionFailedError("expected " + expected.length + " bytes then EOF, but the peer saw "
                        + this, failure);
            }
            if (!Arrays.equals(expected, data)) {
                throw new AssertionFailedError("the peer saw EOF after " + data.length + " bytes, expected exactly the "
                        + expected.length + " bytes sent (" + mismatch(expected) + ")");
            }
            return this;
        }

        /** Asserts the peer saw a reset ("Connection reset"), after a prefix of {@code sent}. */
        public Seen assertReset(byte[] sent) {
            assertReset();
            if (data.length > sent.length || !Arrays.equals(data, 0, data.length, sent, 0, data.length)) {
                throw new AssertionFailedError("before the reset the peer read " + data.length
                        + " bytes that are not a prefix of the " + sent.length + " sent");
            }
            return this;
        }

        /** Asserts the peer saw a reset ("Connection reset"). */
        public Seen assertReset() {
            if (end != End.RESET) {
                throw new AssertionFailedError("expected the peer to see a reset, but it saw " + this, failure);
            }
            return this;
        }

        private String mismatch(byte[] expected) {
            int at = Arrays.mismatch(expected, data);
            return at < 0 ? "equal" : "first difference at byte " + at;
        }

        @Override
        public String toString() {
            return end + " after " + data.length + " bytes" + (failure != null ? " (" + failure + ")" : "");
        }
    }

    /** {@return the JDK's view of how a read ended} */
    public static End classify(IOException e) {
        return e instanceof SocketException && String.valueOf(e.getMessage()).contains("Connection reset")
                ? End.RESET : End.ERROR;
    }

    /** Waits, bounded, for an asynchronous result. */
    public static <T> T await(CompletableFuture<T> future, String what) {
        try {
            return future.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionFailedError(what + " did not complete within " + WAIT_SECONDS + " s");
        } catch (ExecutionException e) {
            throw new AssertionFailedError(what + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionFailedError("interrupted waiting for " + what, e);
        }
    }

    /** A JDK {@link ServerSocket} on 127.0.0.1 that accepts the peers. */
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
         * {@code receiveBuffer} bytes (0: the default)}: with a small one, a peer that does not read
         * soon stops acknowledging.
         */
        public static Server open(int receiveBuffer) throws IOException {
            ServerSocket s = new ServerSocket();
            try {
                if (receiveBuffer > 0) {
                    s.setReceiveBufferSize(receiveBuffer); // before bind: accepted sockets inherit it
                }
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            } catch (IOException e) {
                s.close();
                throw e;
            }
            return new Server(s);
        }

        /** {@return where to connect} */
        public InetSocketAddress address() {
            return new InetSocketAddress(socket.getInetAddress(), socket.getLocalPort());
        }

        /** {@return the next connection (waits at most {@link #WAIT_SECONDS})} */
        public Peer accept() throws IOException {
            return new Peer(socket.accept());
        }

        /**
         * On a platform thread: accepts the next connection and reads it to its end (see
         * {@link Peer#readToEnd()}), for when the connect happens inside the code under test.
         */
        public CompletableFuture<Seen> acceptAndReadToEndAsync() {
            return onPlatformThread("peer-accept-read", () -> accept().readToEnd());
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** One connected JDK socket: the peer. */
    public static final class Peer implements AutoCloseable {
        private final Socket socket;

        Peer(Socket socket) {
            this.socket = socket;
        }

        /** {@return a peer connected to {@code address}} */
        public static Peer connect(InetSocketAddress address) throws IOException {
            Socket s = new Socket();
            try {
                s.connect(address, (int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            } catch (IOException e) {
                s.close();
                throw e;
            }
            return new Peer(s);
        }

        /** {@return the JDK socket} */
        public Socket socket() {
            return socket;
        }

        /** Writes all of {@code bytes} (blocking). */
        public void write(byte[] bytes) throws IOException {
            socket.getOutputStream().write(bytes);
        }

        /** Writes {@code bytes} on a platform thread; completes when written. */
        public CompletableFuture<Void> writeAsync(byte[] bytes) {
            return onPlatformThread("peer-writer", () -> {
                write(bytes);
                return null;
            });
        }

        /** Sends FIN: a clean end of what this peer sends; it can still read. */
        public void shutdownOutput() throws IOException {
            socket.shutdownOutput();
        }

        /** Aborts: SO_LINGER 0 and close, which sends RST. */
        public void reset() throws IOException {
            socket.setSoLinger(true, 0);
            socket.close();
        }

        /** Reads exactly {@code n} bytes (blocking, bounded). */
        public byte[] readExactly(int n) throws IOException {
            socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            byte[] b = socket.getInputStream().readNBytes(n);
            if (b.length != n) {
                throw new IOException("end of stream after " + b.length + " of " + n + " bytes");
            }
            return b;
        }

        /**
         * Reads until the stream ends, on the calling thread, without a timeout (the caller
         * bounds the wait). Then closes the socket: after an EOF that sends our FIN cleanly,
         * since nothing is left unread.
         */
        public Seen readToEnd() {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buffer = new byte[64 * 1024];
            try {
                socket.setSoTimeout(0);
                InputStream in = socket.getInputStream();
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    all.write(buffer, 0, n);
                }
                return new Seen(all.toByteArray(), End.EOF, null);
            } catch (IOException e) {
                return new Seen(all.toByteArray(), classify(e), e);
            } finally {
                close();
            }
        }

        /** {@link #readToEnd()} on a new platform thread. */
        public CompletableFuture<Seen> readToEndAsync() {
            return onPlatformThread("peer-reader", this::readToEnd);
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing a test cares about
            }
        }

        @Override
        public String toString() {
            return "Peer[" + socket + "]";
        }
    }

    /** A blocking call. */
    @FunctionalInterface
    public interface Call<T> {
        T call() throws Exception;
    }

    /** {@return the outcome of {@code call}, run on a new daemon platform thread} */
    public static <T> CompletableFuture<T> onPlatformThread(String name, Call<T> call) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name(name).start(() -> {
            try {
                result.complete(call.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }
}
