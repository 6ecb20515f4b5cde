package consumer.classpath;

import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.FinishResult;
import dev.tcpscope.PeerEnding;
import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;
import dev.tcpscope.TcpScope;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Uses the packaged tcpscope jar from the class path (the unnamed module): a connection that
 * writes and finishes, then the {@link TcpScope} lambda form, once succeeding and once throwing.
 * The accepting side must see every byte and a clean end of stream after each success, and a
 * reset after the failure. Exits non-zero (an uncaught error) if anything differs.
 */
public final class Main {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    /** What the accepting side saw: the bytes, and whether they ended with FIN (else RST). */
    record Seen(byte[] bytes, boolean fin) {}

    public static void main(String[] args) throws Exception {
        Module tcpscope = TcpConnection.class.getModule();
        check(!tcpscope.isNamed(), "tcpscope is on the class path (the unnamed module), not in " + tcpscope);
        check(tcpscope.isNativeAccessEnabled(), "--enable-native-access=ALL-UNNAMED took effect");

        byte[] message = new byte[256 * 1024];
        for (int i = 0; i < message.length; i++) {
            message[i] = (byte) (i * 31 + 7);
        }
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            InetSocketAddress address = listener.localAddress();

            // 1. A connection on its own: write, finish().
            CompletableFuture<Seen> seen = acceptOne(listener);
            try (TcpConnection connection = TcpConnection.connect(address, DEADLINE)) {
                connection.write(message);
                FinishResult finished = connection.finish(DEADLINE);
                check(finished.delivered() && finished.peerEnding() == PeerEnding.FIN, "finish() delivered: " + finished);
            }
            expect(seen, message, true, "connection.finish()");

            // 2. The lambda form, succeeding: the scope finishes the connection.
            seen = acceptOne(listener);
            long written = TcpScope.call(address, (scope, connection) -> {
                connection.write(message);
                return connection.bytesWritten();
            });
            check(written == message.length, "the body wrote " + message.length + " bytes, not " + written);
            expect(seen, message, true, "TcpScope.call, body returned");

            // 3. The lambda form, failing after half the message: the scope aborts the connection.
            seen = acceptOne(listener);
            byte[] half = Arrays.copyOf(message, message.length / 2);
            try {
                TcpScope.call(address, (scope, connection) -> {
                    connection.write(half);
                    throw new IllegalStateException("the body failed");
                });
                check(false, "TcpScope.call rethrows the body's exception");
            } catch (IllegalStateException expected) {
                check(expected.getMessage().equals("the body failed"), "the body's own exception: " + expected);
            }
            Seen failed = seen.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            check(!failed.fin(), "TcpScope.call, body threw: the peer saw RST, not FIN, after " + failed.bytes().length
                    + " bytes");
            check(failed.bytes().length <= half.length, "no more than was written arrived");
            check(Arrays.equals(failed.bytes(), Arrays.copyOf(half, failed.bytes().length)), "the bytes that arrived are right");
        }
        System.out.println("consumer-classpath OK: " + message.length + " bytes then FIN twice (finish(), TcpScope.call),"
                + " RST after a failing body, from " + TcpConnection.class.getProtectionDomain().getCodeSource().getLocation());
    }

    /** Accepts one connection and reads it to its end, in a virtual thread. */
    private static CompletableFuture<Seen> acceptOne(TcpListener listener) {
        CompletableFuture<Seen> seen = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (TcpConnection accepted = listener.accept(DEADLINE)) {
                accepted.readTimeout(DEADLINE);
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                byte[] buffer = new byte[16 * 1024];
                try {
                    for (int n; (n = accepted.read(buffer)) >= 0; ) { // -1: the peer's FIN
                        bytes.write(buffer, 0, n);
                    }
                } catch (ConnectionResetException e) {
                    seen.complete(new Seen(bytes.toByteArray(), false));
                    return; // try-with-resources aborts our side too
                }
                FinishResult ours = accepted.finish(DEADLINE);
                check(ours.delivered(), "the accepting side ended gracefully too: " + ours);
                seen.complete(new Seen(bytes.toByteArray(), true));
            } catch (IOException | RuntimeException | Error e) {
                seen.completeExceptionally(e);
            }
        });
        return seen;
    }

    private static void expect(CompletableFuture<Seen> seen, byte[] message, boolean fin, String what) throws Exception {
        Seen s = seen.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        check(s.fin() == fin, what + ": the peer saw " + (s.fin() ? "FIN" : "RST"));
        check(Arrays.equals(s.bytes(), message), what + ": the peer read all " + message.length + " bytes (read "
                + s.bytes().length + ")");
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError("consumer-classpath FAILED: " + what);
        }
    }
}
