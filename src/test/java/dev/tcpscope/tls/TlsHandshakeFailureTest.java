package dev.tcpscope.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;
import dev.tcpscope.TcpServer;
import dev.tcpscope.testing.ChildProcess;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.OpenSockets;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A TLS handshake that fails ends in a typed exception naming the cause, the connection is
 * reset (after the engine's alert, when it has one: the peer learns why) and no descriptor leaks
 * ({@link OpenSockets}, per test). Client side: an untrusted certificate, a protocol the server
 * refuses, a server that speaks plain TCP, a server that never answers. Server side: a plain-TCP
 * client and a client that never sends its hello; the handler never runs.
 *
 * <p>Checked by breaking the code: with {@code TlsSockets.connect} not closing the socket when
 * the handshake fails, the descriptor checks failed (and the peers, never reset, hung); with
 * {@code TlsSocket.close} skipping the pending alert, the plain-TCP server row found no record
 * after the ClientHello; with {@code ServedConnection} not running the handshake before the
 * handler, both server rows saw a clean EOF instead of RST.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TlsHandshakeFailureTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @Test
    void untrustedCertificateIsAHandshakeExceptionAndThePeerGetsTheAlert() throws Exception {
        try (ChildProcess python = TlsPeers.pythonServer("1.3", "observe", 0)) {
            int port = TlsPeers.port(python);
            SSLHandshakeException e = assertThrows(SSLHandshakeException.class, () -> TcpConnection.connectTls(
                    new InetSocketAddress(LOOPBACK, port), Duration.ofSeconds(20), SSLContext.getDefault(), "localhost", null));
            assertTrue(e.getMessage().contains("PKIX"), e.getMessage());
            // OpenSSL names the alert we sent (SSLV3_ALERT_CERTIFICATE_UNKNOWN), or, when the
            // RST hits its own write of the rest of its flight first, ConnectionResetError.
            String seen = python.nextLine();
            assertTrue(seen.equals("HANDSHAKE_FAILED ConnectionResetError") || seen.contains("CERTIFICATE_UNKNOWN"), seen);
        }
    }

    @Test
    void hostNameNotInTheCertificateIsRefused() throws Exception {
        try (ChildProcess python = TlsPeers.pythonServer("1.3", "observe", 0)) {
            int port = TlsPeers.port(python);
            SSLHandshakeException e = assertThrows(SSLHandshakeException.class, () -> TcpConnection.connectTls(
                    new InetSocketAddress(LOOPBACK, port), Duration.ofSeconds(20), TlsPeers.clientContext(),
                    "example.org", null));
            assertTrue(e.getMessage().contains("example.org"), e.getMessage());
            assertTrue(python.nextLine().startsWith("HANDSHAKE_FAILED"));
        }
    }

    @Test
    void protocolTheServerRefusesIsAHandshakeException() throws Exception {
        try (ChildProcess python = TlsPeers.pythonServer("1.2", "require13", 0)) {
            int port = TlsPeers.port(python);
            SSLHandshakeException e = assertThrows(SSLHandshakeException.class, () -> TcpConnection.connectTls(
                    new InetSocketAddress(LOOPBACK, port), Duration.ofSeconds(20), TlsPeers.clientContext(),
                    "localhost", TlsPeers.only("1.2")));
            assertTrue(e.getMessage().contains("protocol_version"), e.getMessage());
            assertTrue(python.nextLine().startsWith("HANDSHAKE_FAILED"));
        }
    }

    @Test
    void serverThatSpeaksPlainTcpIsAnSslExceptionAndItGetsTheAlertThenRst() throws Exception {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(LOOPBACK, 0))) {
            var received = new java.io.ByteArrayOutputStream();
            var ending = new java.util.concurrent.CompletableFuture<Class<?>>();
            Thread.startVirtualThread(() -> {
                try (TcpConnection plain = listener.accept()) {
                    byte[] buffer = new byte[4096];
                    int n = plain.read(buffer); // the ClientHello (one segment on loopback)
                    received.write(buffer, 0, n);
                    plain.write("HTTP/1.0 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    while ((n = plain.read(buffer)) >= 0) {
                        received.write(buffer, 0, n);
                    }
                    ending.complete(null);
                } catch (IOException e) {
                    ending.complete(e.getClass());
                }
            });
            SSLException e = assertThrows(SSLException.class, () -> TcpConnection.connectTls(
                    listener.localAddress(), Duration.ofSeconds(20), TlsPeers.clientContext(), "localhost", null));
            assertTrue(e.getMessage().contains("plaintext connection"), e.getMessage());
            assertEquals(ConnectionResetException.class, ending.get(20, TimeUnit.SECONDS), "RST after the alert");
            byte[] bytes = received.toByteArray();
            int helloLength = 5 + ((bytes[3] & 0xff) << 8 | (bytes[4] & 0xff));
            assertEquals(0x16, bytes[0], "a handshake record: the ClientHello");
            assertTrue(bytes.length >= helloLength + 7, "a record after the ClientHello: " + bytes.length + " bytes");
            assertEquals(0x15, bytes[helloLength], "then an alert record");
            assertEquals(2, bytes[helloLength + 5], "fatal");
        }
    }

    @Test
    void serverThatNeverAnswersIsATimeoutAndItGetsRst() throws Exception {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(LOOPBACK, 0))) {
            var seen = new java.util.concurrent.CompletableFuture<Class<?>>();
            Thread.startVirtualThread(() -> {
                try (TcpConnection silent = listener.accept()) {
                    byte[] buffer = new byte[4096];
                    while (silent.read(buffer) >= 0) {
                        // the ClientHello, then what comes
                    }
                    seen.complete(null);
                } catch (IOException e) {
                    seen.complete(e.getClass());
                }
            });
            SocketTimeoutException e = assertThrows(SocketTimeoutException.class, () -> TcpConnection.connectTls(
                    listener.localAddress(), Duration.ofSeconds(1), TlsPeers.clientContext(), "localhost", null));
            assertTrue(e.getMessage().contains("TLS handshake"), e.getMessage());
            assertEquals(ConnectionResetException.class, seen.get(20, TimeUnit.SECONDS), "the silent server saw RST");
        }
    }

    @Test
    void serverResetsAPlainTcpClientAndNeverRunsTheHandler() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        try (TcpServer server = TcpServer.builder(new InetSocketAddress(LOOPBACK, 0))
                .tls(TlsPeers.serverContext()).drainPeriod(Duration.ofMillis(100)).bind()) {
            Thread serving = Thread.ofVirtual().start(() -> server.serve((conn, scope) -> handled.incrementAndGet()));
            try (JdkPeer plain = JdkPeer.connect(server.localAddress())) {
                plain.write("GET / HTTP/1.0\r\n\r\n");
                plain.readToEnd().assertReset();
            } finally {
                server.shutdown();
                serving.join();
            }
            assertEquals(0, handled.get(), "the handler never ran");
            assertEquals(1L, server.stats().abortedByKind().get(dev.tcpscope.AbortKind.TLS_HANDSHAKE), server.stats().toString());
        }
    }

    @Test
    void serverResetsAClientThatNeverSendsItsHelloAtTheHandshakeTimeout() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        try (TcpServer server = TcpServer.builder(new InetSocketAddress(LOOPBACK, 0))
                .tls(TlsPeers.serverContext()).tlsHandshakeTimeout(Duration.ofMillis(300))
                .drainPeriod(Duration.ofMillis(100)).bind()) {
            Thread serving = Thread.ofVirtual().start(() -> server.serve((conn, scope) -> handled.incrementAndGet()));
            try (JdkPeer silent = JdkPeer.connect(server.localAddress())) {
                silent.readToEnd().assertReset();
            } finally {
                server.shutdown();
                serving.join();
            }
            assertFalse(handled.get() > 0, "the handler never ran");
        }
    }
}
