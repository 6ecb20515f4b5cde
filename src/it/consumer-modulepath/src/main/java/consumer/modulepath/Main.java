package consumer.modulepath;

import dev.tcpscope.FinishResult;
import dev.tcpscope.PeerEnding;
import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Uses the packaged tcpscope jar as a named module: a listener on a loopback port, a connection
 * to it that writes a message and finishes, and the accepting side, which must read every byte
 * and then a clean end of stream. Exits non-zero (an uncaught error) if anything differs.
 */
public final class Main {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    public static void main(String[] args) throws Exception {
        Module tcpscope = TcpConnection.class.getModule();
        check(tcpscope.isNamed() && tcpscope.getName().equals("dev.tcpscope"),
                "tcpscope is the named module dev.tcpscope, not " + tcpscope);
        check(Main.class.getModule().isNamed(), "this application runs as a module");
        check(tcpscope.isNativeAccessEnabled(), "--enable-native-access=dev.tcpscope took effect");

        byte[] message = new byte[256 * 1024];
        for (int i = 0; i < message.length; i++) {
            message[i] = (byte) (i * 31 + 7);
        }
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            CompletableFuture<byte[]> received = new CompletableFuture<>();
            Thread acceptor = Thread.ofVirtual().start(() -> {
                try (TcpConnection accepted = listener.accept(DEADLINE)) {
                    accepted.readTimeout(DEADLINE);
                    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                    byte[] buffer = new byte[16 * 1024];
                    for (int n; (n = accepted.read(buffer)) >= 0; ) { // -1: the peer's FIN
                        bytes.write(buffer, 0, n);
                    }
                    FinishResult ours = accepted.finish(DEADLINE);
                    check(ours.delivered(), "the accepting side ended gracefully too: " + ours);
                    received.complete(bytes.toByteArray());
                } catch (Throwable t) {
                    received.completeExceptionally(t);
                }
            });

            try (TcpConnection connection = TcpConnection.connect(listener.localAddress(), DEADLINE)) {
                connection.write(message);
                FinishResult finished = connection.finish(DEADLINE);
                check(finished.delivered(), "finish() delivered every byte: " + finished);
                check(finished.peerEnding() == PeerEnding.FIN, "the peer ended with FIN: " + finished);
            }
            byte[] got = received.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            acceptor.join();
            check(Arrays.equals(got, message), "the peer read all " + message.length + " bytes, then EOF (read "
                    + got.length + ")");
        }
        System.out.println("consumer-modulepath OK: " + message.length + " bytes, then FIN, through module "
                + tcpscope.getName() + " from " + TcpConnection.class.getProtectionDomain().getCodeSource().getLocation());
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError("consumer-modulepath FAILED: " + what);
        }
    }
}
