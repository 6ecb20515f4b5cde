package dev.tcpscope.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.FinishResult;
import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpServer;
import dev.tcpscope.TlsTruncationException;
import dev.tcpscope.testing.ChildProcess;
import dev.tcpscope.testing.OpenSockets;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TLS endings as Python's ssl module (OpenSSL) sees them, with {@code suppress_ragged_eofs=False}
 * so that it tells {@code close_notify} from a bare FIN; TLS 1.2 and 1.3, on the transport under
 * test. Our server: a handler that returns sends {@code close_notify}, then FIN; one that throws
 * or overruns its time limit sends RST, never a clean end. Our client: {@code finish()} and
 * {@code abort()} likewise; reading, the peer's {@code close_notify} is -1, its FIN without it a
 * {@link TlsTruncationException}, its RST a {@link ConnectionResetException}.
 *
 * <p>Checked by breaking the code: with {@code TlsSocket} never sending {@code close_notify}, the
 * success rows read "TRUNCATED 10000 FIN" and the close_notify and half-close rows hung until
 * Python gave up (8 failures); with {@code TlsSocket.close} sending {@code close_notify} before
 * the RST, the abort and time-limit rows read "CLOSE_NOTIFY 5000 RST" (the handler-throws rows
 * passed that run: the RST came before Python read the close_notify); with {@code read}
 * returning -1 for the TCP FIN, both truncation rows failed.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TlsEndingsWithPythonTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final int BODY = 10_000;
    private static final int PART = 5_000;

    /** Serves one request: /ok writes BODY bytes and returns, /fail writes PART and throws, /slow writes PART and stalls. */
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
        String path = head.toString().split(" ")[1];
        switch (path) {
            case "/ok" -> conn.write(new byte[BODY]);
            case "/fail" -> {
                conn.write(new byte[PART]);
                throw new IllegalStateException("simulated failure");
            }
            default -> {
                conn.write(new byte[PART]);
                Thread.sleep(Duration.ofHours(1)); // the handler time limit interrupts it
            }
        }
    }

    private static String serveOnce(String version, String path) throws Exception {
        TcpServer.Builder builder = TcpServer.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .tls(TlsPeers.serverContext(), TlsPeers.only(version))
                .drainPeriod(Duration.ofMillis(100));
        if (path.equals("/slow")) {
            // Only the row that needs it: the limit runs from the accept, through the handshake
            // and the whole graceful ending, and on a loaded machine it could cut a row that
            // returns or throws short (seen up to 258 ms of its 1 s under load here).
            builder.handlerTimeLimit(Duration.ofSeconds(1));
        }
        try (TcpServer server = builder.bind()) {
            Thread serving = Thread.ofVirtual().start(() -> server.serve((conn, scope) -> handle(conn)));
            try (ChildProcess python = TlsPeers.pythonClient(server.localAddress().getPort(), version,
                    "GET " + path + " HTTP/1.0\\r\\n\\r\\n")) {
                assertEquals("HANDSHAKE TLSv" + version, python.nextLine(), python.describe());
                String ending = python.nextLine();
                python.awaitExit();
                return ending;
            } finally {
                server.shutdown();
                serving.join();
            }
        }
    }

    /**
     * A reset as Python saw it: ConnectionResetError, or (OpenSSL 3.0 reports a RST in SSL_read
     * as SSLEOFError) SSLEOFError with the socket in TCP_CLOSE, never CLOSE_WAIT (a bare FIN).
     */
    private static void assertReset(int bytes, String line) {
        assertTrue(line.equals("RST " + bytes) || line.equals("TRUNCATED " + bytes + " RST"),
                "expected a reset after " + bytes + " bytes, saw: " + line);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2", "1.3"})
    void serverHandlerThatReturnsSendsCloseNotifyThenFin(String version) throws Exception {
        assertEquals("CLOSE_NOTIFY " + BODY + " FIN", serveOnce(version, "/ok"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2", "1.3"})
    void serverHandlerThatThrowsSendsRstWithoutCloseNotify(String version) throws Exception {
        assertReset(PART, serveOnce(version, "/fail"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2", "1.3"})
    void serverHandlerPastItsTimeLimitSendsRst(String version) throws Exception {
        assertReset(PART, serveOnce(version, "/slow"));
    }

    private static TcpConnection connect(ChildProcess python, String version) throws IOException {
        int port = TlsPeers.port(python);
        return TcpConnection.connectTls(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                Duration.ofSeconds(20), TlsPeers.clientContext(), "localhost", TlsPeers.only(version));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2", "1.3"})
    void clientFinishSendsCloseNotifyThenFin(String version) throws Exception {
        try (ChildProcess python = TlsPeers.pythonServer(version, "observe", 0);
             TcpConnection conn = connect(python, version)) {
            assertEquals("TLSv" + version, conn.tlsSession().orElseThrow().getProtocol());
            assertEquals("HANDSHAKE TLSv" + version, python.nextLine());
            conn.write(new byte[BODY]);
            FinishResult result = conn.finish();
            assertTrue(result.graceful(), result.toString());
            assertEquals("CLOSE_NOTIFY " + BODY + " FIN", python.nextLine(), python.describe());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2", "1.3"})
    void clientAbortSendsRstWithoutCloseNotify(String version) throws Exception {
        try (ChildProcess python = TlsPeers.pythonServer(version, "observe", 0);
             TcpConnection conn = connect(python, version)) {
            assertEquals("HANDSHAKE TLSv" + version, python.nextLine());
            conn.write(new byte[PART]);
            conn.abort();
            assertReset(PART, python.nextLine());
        }
    }

    /** Reads to the end; {@return the number of bytes read before -1} */
    private static long readAll(TcpConnection conn) throws IOException {
        byte[] buffer = new byte[4096];
        long total = 0;
        for (int n; (n = conn.read(buffer)) >= 0; ) {
            total += n;
        }
        return total;
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2", "1.3"})
    void peersCloseNotifyReadsAsTheEnd(String version) throws Exception {
        try (ChildProcess python = TlsPeers.pythonServer(version, "close_notify", BODY);
             TcpConnection conn = connect(python, version)) {
            assertEquals(BODY, readAll(conn));
            assertEquals(-1, conn.read(new byte[1]), "and again");
            if (version.equals("1.2")) {
                // RFC 5246 7.2.1: the peer's close_notify closes the whole TLS 1.2 connection; our
                // answer is our own close_notify, which only finish() sends.
                assertThrows(ConnectionClosedException.class, () -> conn.write(new byte[1]));
            }
            assertTrue(conn.finish().graceful()); // our close_notify answers Python's unwrap()
            python.expect("HANDSHAKE");
            python.expect("SENT");
            python.expect("DONE");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2", "1.3"})
    void peersFinWithoutCloseNotifyIsATruncation(String version) throws Exception {
        try (ChildProcess python = TlsPeers.pythonServer(version, "fin", BODY);
             TcpConnection conn = connect(python, version)) {
            byte[] buffer = new byte[4096];
            long total = 0;
            TlsTruncationException e = null;
            try {
                for (int n; (n = conn.read(buffer)) >= 0; ) {
                    total += n;
                }
            } catch (TlsTruncationException t) {
                e = t;
            }
            assertTrue(e != null, "a FIN without close_notify must not read as -1");
            assertEquals(BODY, total, "the data before it is delivered");
            assertThrows(TlsTruncationException.class, () -> conn.read(buffer), "remembered");
            python.sendLine("done");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2", "1.3"})
    void peersRstIsAReset(String version) throws Exception {
        try (ChildProcess python = TlsPeers.pythonServer(version, "rst", BODY);
             TcpConnection conn = connect(python, version)) {
            python.expect("HANDSHAKE");
            python.expect("SENT");
            python.expect("DONE");
            byte[] buffer = new byte[4096];
            assertThrows(ConnectionResetException.class, () -> {
                while (conn.read(buffer) >= 0) {
                    // the data before the reset, if the kernel kept it
                }
            });
            assertThrows(ConnectionResetException.class, () -> conn.read(buffer), "remembered");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2", "1.3"})
    void shutdownOutputSendsCloseNotifyThenFinAndWeKeepReading(String version) throws Exception {
        try (ChildProcess python = TlsPeers.pythonServer(version, "reply_after_close", BODY);
             TcpConnection conn = connect(python, version)) {
            conn.write(new byte[PART]);
            conn.shutdownOutput();
            python.expect("HANDSHAKE");
            assertEquals("RECEIVED " + PART, python.nextLine(), "Python read our close_notify as the end");
            assertEquals(BODY, readAll(conn), "and our side kept reading: " + python.describe());
            assertEquals("REPLIED " + BODY, python.nextLine());
            assertTrue(conn.finish().graceful());
        }
    }

    /**
     * A scope owns a TLS connection as any other: its {@code finish()} sends {@code close_notify}
     * then FIN; an exception before it, RST. Checked by breaking the code: with
     * {@code TcpScope.connectTls} not taking the connection into the scope's ledger, the scope's
     * finish() left it open and Python waited 60 s for an ending that never came (both versions).
     */
    @ParameterizedTest
    @ValueSource(strings = {"1.2", "1.3"})
    void scopeSuccessSendsCloseNotifyAndItsFailureRst(String version) throws Exception {
        try (ChildProcess python = TlsPeers.pythonServer(version, "observe", 0)) {
            int port = TlsPeers.port(python);
            try (var scope = dev.tcpscope.TcpScope.open()) {
                TcpConnection conn = scope.connectTls(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                        Duration.ofSeconds(20), TlsPeers.clientContext(), "localhost", TlsPeers.only(version));
                scope.fork(() -> {
                    conn.write(new byte[BODY]);
                    return null;
                });
                scope.join();
                scope.finish();
            }
            python.expect("HANDSHAKE");
            assertEquals("CLOSE_NOTIFY " + BODY + " FIN", python.nextLine(), python.describe());
        }
        try (ChildProcess python = TlsPeers.pythonServer(version, "observe", 0)) {
            int port = TlsPeers.port(python);
            assertThrows(IllegalStateException.class, () -> {
                try (var scope = dev.tcpscope.TcpScope.open()) {
                    TcpConnection conn = scope.connectTls(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                            Duration.ofSeconds(20), TlsPeers.clientContext(), "localhost", TlsPeers.only(version));
                    python.expect("HANDSHAKE"); // Python's side of the handshake is over too
                    conn.write(new byte[PART]);
                    throw new IllegalStateException("simulated failure before join()");
                }
            });
            assertReset(PART, python.nextLine());
        }
    }
}
