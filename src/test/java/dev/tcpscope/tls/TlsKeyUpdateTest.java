package dev.tcpscope.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpServer;
import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;
import dev.tcpscope.testing.OpenSockets;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * TLS 1.3 post-handshake messages inside reads and writes: the JDK's {@code SSLSocket}, with
 * {@code -Djdk.tls.keyLimits} set so low that it sends a KeyUpdate asking for ours every few KiB,
 * echoes 4 MiB through our TLS server, whose handler reads on one thread and writes on another.
 * Every KeyUpdate our reader takes asks for one back, sent by the reader or, while a write is
 * under way, by the writer; a lost or misplaced one breaks the peer's decryption.
 *
 * <p>Checked by breaking the code: with {@code TlsSocket.unwrapOnce} treating a record that yields
 * no plaintext (a KeyUpdate) as "receive more first", the reads stalled on buffered records and
 * the client failed. With the reader's NEED_WRAP ignored the test still passed: the engine keeps
 * the KeyUpdate answer queued in order and the writer's next wrap sends it, so this test does not
 * show that the reader answers promptly when no write follows (nothing here tests that, nor a
 * TLS 1.2 renegotiation).
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TlsKeyUpdateTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final long BYTES = 4L << 20;

    @Test
    void keyUpdatesDuringAnEchoWithAReaderAndAWriter() throws Exception {
        try (TcpServer server = TcpServer.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .tls(TlsPeers.serverContext()).drainPeriod(Duration.ofMillis(100)).bind()) {
            CompletableFuture<Long> echoed = new CompletableFuture<>();
            Thread serving = Thread.ofVirtual().start(() -> server.serve((conn, scope) -> echo(conn, scope, echoed)));
            var certificate = TlsPeers.certificate();
            try (ChildProcess child = ChildJvm.of(JdkTlsEchoClient.class)
                    .jvmOptions("-Djdk.tls.keyLimits=AES/GCM/NoPadding KeyUpdate 2^12, ChaCha20-Poly1305 KeyUpdate 2^12")
                    .start(Integer.toString(server.localAddress().getPort()), Long.toString(BYTES),
                            certificate.keystore().toString(), new String(certificate.password()))) {
                assertEquals("ECHOED " + BYTES + " 0", child.nextLine(), child.describe());
                assertEquals(BYTES, echoed.get(60, TimeUnit.SECONDS));
            } finally {
                server.shutdown();
                serving.join();
            }
        }
    }

    /** Reads on this thread and writes what it read on a subtask, until the client's close_notify. */
    private static void echo(TcpConnection conn, dev.tcpscope.TcpScope<Object, Void> scope,
                             CompletableFuture<Long> echoed) throws Exception {
        LinkedBlockingQueue<byte[]> chunks = new LinkedBlockingQueue<>();
        byte[] end = new byte[0];
        scope.fork(() -> {
            long total = 0;
            for (byte[] c; (c = chunks.take()) != end; ) {
                conn.write(c);
                total += c.length;
            }
            echoed.complete(total);
            return null;
        });
        byte[] buffer = new byte[8192];
        for (int n; (n = conn.read(buffer)) >= 0; ) {
            chunks.put(java.util.Arrays.copyOf(buffer, n));
        }
        chunks.put(end);
        scope.join();
    }
}
