package dev.tcpscope.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The far end of a served connection, observed with the JDK's own {@link Socket}: it tells an
 * end of stream (the server's FIN) apart from {@code SocketException: Connection reset} (RST).
 *
 * <p>Every socket gets a generous SO_TIMEOUT only as a guard against a hung test: reaching it is
 * reported as a failure, never used to decide an outcome.
 */
public final class Peer {

    /** Guard against a hung read; far longer than anything a test waits for. */
    public static final int GUARD_MILLIS = 60_000;

    private Peer() {}

    /** How the server's side of a connection ended, as this peer saw it. */
    public enum End { EOF, RESET }

    /** What the peer received: every byte, then EOF or RST. */
    public record Received(byte[] bytes, End end, String resetMessage) {
        public String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }

        public boolean eof() {
            return end == End.EOF;
        }

        public boolean reset() {
            return end == End.RESET;
        }

        @Override
        public String toString() {
            String shown = bytes.length <= 64 ? "\"" + text() + "\"" : bytes.length + " bytes";
            return "Received[" + shown + ", " + end + (resetMessage != null ? " (" + resetMessage + ")" : "") + "]";
        }
    }

    /** Connects to the loopback address on {@code port}. */
    public static Socket connect(int port) throws IOException {
        return connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }

    /** Connects to {@code address} with the guard timeout on reads. */
    public static Socket connect(InetSocketAddress address) throws IOException {
        Socket socket = new Socket();
        socket.setSoTimeout(GUARD_MILLIS);
        socket.connect(address, GUARD_MILLIS);
        return socket;
    }

    /** Connects to {@code port} on the loopback address and closes at once: for refused-connection checks. */
    public static void connectAndClose(int port) throws IOException {
        connectAndClose(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }

    /** Connects to {@code address} and closes at once: for refused-connection checks. */
    public static void connectAndClose(InetSocketAddress address) throws IOException {
        try (Socket socket = connect(address)) {
            socket.getLocalPort();
        }
    }

    /** Writes {@code text} (UTF-8) and flushes. */
    public static void send(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        socket.getOutputStream().flush();
    }

    /**
     * Reads until the server's FIN (EOF) or its RST ({@code SocketException: Connection reset}),
     * keeping every byte that arrived first.
     *
     * @throws SocketTimeoutException the guard timeout passed: the server neither ended nor reset
     */
    public static Received readToEnd(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] buffer = new byte[64 * 1024];
        while (true) {
            int n;
            try {
                n = in.read(buffer);
            } catch (SocketTimeoutException e) {
                throw new SocketTimeoutException("guard timeout: after " + bytes.size()
                        + " bytes the server neither ended (FIN) nor reset (RST) the connection");
            } catch (SocketException e) {
                if (e.getMessage() != null && e.getMessage().contains("Connection reset")) {
                    return new Received(bytes.toByteArray(), End.RESET, e.getMessage());
                }
                throw e;
            }
            if (n < 0) {
                return new Received(bytes.toByteArray(), End.EOF, null);
            }
            bytes.write(buffer, 0, n);
        }
    }

    /** Reads exactly {@code n} bytes, failing on an early end. */
    public static byte[] readExactly(Socket socket, int n) throws IOException {
        byte[] bytes = socket.getInputStream().readNBytes(n);
        if (bytes.length != n) {
            throw new IOException("expected " + n + " bytes, the stream ended after " + bytes.length
                    + ": " + new String(bytes, StandardCharsets.UTF_8));
        }
        return bytes;
    }

    /** {@return whether {@code prefix} is a prefix of {@code bytes}} */
    public static boolean isPrefix(byte[] prefix, byte[] bytes) {
        return prefix.length <= bytes.length && Arrays.equals(prefix, 0, prefix.length, bytes, 0, prefix.length);
    }

    /** A deterministic payload of {@code size} bytes, different for each {@code seed}. */
    public static byte[] payload(int size, int seed) {
        byte[] bytes = new byte[size];
        int x = seed * 0x9E3779B9 + 1;
        for (int i = 0; i < size; i++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            bytes[i] = (byte) x;
        }
        return bytes;
    }
}
