package dev.tcpscope.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpServer;
import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;
import dev.tcpscope.testing.OpenSockets;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our TLS server seen by the JDK's {@code SSLSocket} in a child JVM with
 * {@code -Dcom.sun.net.ssl.requireCloseNotify=true} (without it the JDK reads a FIN without
 * {@code close_notify} as -1): after the handler's success its read returns -1; after a failure
 * it throws. TLS 1.2 and 1.3.
 *
 * <p>Checked by breaking the code: with {@code TlsSocket} never sending {@code close_notify}, both
 * success rows threw ("SSLProtocolException: Remote host terminated the connection"); with
 * {@code TlsSocket.close} sending it before the RST, a failure row read "EOF 20000".
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TlsEndingsWithJdkSslSocketTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final int BODY = 20_000;

    private static TcpServer server;
    private static Thread serving;

    @BeforeAll
    static void startServer() throws Exception {
        server = TcpServer.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .tls(TlsPeers.serverContext())
                .drainPeriod(Duration.ofMillis(100))
                .bind();
        serving = Thread.ofVirtual().start(() -> server.serve((conn, scope) -> handle(conn)));
    }

    @AfterAll
    static void stopServer() throws InterruptedException {
        server.shutdown();
        serving.join();
        server.close();
    }

    private static void handle(TcpConnection conn) throws Exception {
        InputStream in = conn.inputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("request cut short");
            }
            head.append((char) c);
        }
        conn.write(new byte[BODY]);
        if (head.toString().startsWith("GET /fail")) {
            throw new IllegalStateException("simulated failure after the body's first part");
        }
    }

    private static String jdkClient(String version, String path) throws IOException {
        var certificate = TlsPeers.certificate();
        try (ChildProcess child = ChildJvm.of(JdkTlsClient.class)
                .jvmOptions("-Dcom.sun.net.ssl.requireCloseNotify=true")
                .start(Integer.toString(server.localAddress().getPort()), version, path,
                        certificate.keystore().toString(), new String(certificate.password()))) {
            assertEquals("HANDSHAKE TLSv" + version, child.nextLine(), child.describe());
            String ending = child.nextLine();
            assertEquals(0, child.awaitExit(), child.describe());
            return ending;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2", "1.3"})
    void afterSuccessTheJdkReadsTheEnd(String version) throws Exception {
        assertEquals("EOF " + BODY, jdkClient(version, "/ok"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2", "1.3"})
    void afterFailureTheJdkReadThrows(String version) throws Exception {
        String ending = jdkClient(version, "/fail");
        assertTrue(ending.startsWith("EXCEPTION "), ending);
    }
}
