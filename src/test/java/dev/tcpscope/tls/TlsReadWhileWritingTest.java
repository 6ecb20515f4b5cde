package dev.tcpscope.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.FinishResult;
import dev.tcpscope.TcpConnection;
import dev.tcpscope.TlsTruncationException;
import dev.tcpscope.testing.OpenSockets;

import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our TLS client's reading side while another thread writes, against the JDK's
 * {@code SSLSocket} as the server (layered over a plain socket, so that it can also end TCP
 * without TLS): the peer's {@code close_notify} reads as -1 (TLS 1.3 half-close: our writer
 * carries on and {@code finish()} delivers), its FIN without {@code close_notify} is a
 * {@link TlsTruncationException} for the reader while the writer carries on, its RST is a
 * {@link ConnectionResetException} for the reader and, remembered, for the writer.
 *
 * <p>Checked by breaking the code: with {@code TlsSocket.read} returning -1 for the TCP FIN, both
 * truncation rows failed (nothing thrown). (The in-process JDK peer runs without
 * {@code requireCloseNotify}, so a missing {@code close_notify} of ours is caught by
 * {@code TlsEndingsWithPythonTest} and {@code TlsEndingsWithJdkSslSocketTest}, not here.)
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TlsReadWhileWritingTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final int FROM_PEER = 1 << 20;
    private static final int TO_PEER = 1 << 20;

    /** How the peer ends after writing FROM_PEER bytes. */
    private enum PeerEnd { CLOSE_NOTIFY, FIN, RST }

    /**
     * Runs the peer on platform threads: it accepts, completes the handshake, reads everything
     * we send (counting it; -1 or the exception is the result) while it writes FROM_PEER bytes and
     * then ends as {@code end} says.
     */
    private static CompletableFuture<String> peer(ServerSocket listener, String version, PeerEnd end) {
        CompletableFuture<String> seen = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try (Socket plain = listener.accept()) {
                SSLSocketFactory factory = TlsPeers.serverContext().getSocketFactory();
                SSLSocket tls = (SSLSocket) factory.createSocket(plain, null, false);
                tls.setEnabledProtocols(new String[] {"TLSv" + version});
                tls.startHandshake();
                Thread reader = Thread.ofPlatform().daemon().start(() -> {
                    long total = 0;
                    byte[] buffer = new byte[16384];
                    try {
                        InputStream in = tls.getInputStream();
                        for (int n; (n = in.read(buffer)) >= 0; ) {
                            total += n;
                        }
                        seen.complete("EOF " + total);
                    } catch (IOException e) {
                        seen.complete("EXCEPTION " + total + " " + e);
                    }
                });
                OutputStream out = tls.getOutputStream();
                out.write(new byte[FROM_PEER]);
                out.flush();
                switch (end) {
                    case CLOSE_NOTIFY -> tls.shutdownOutput(); // TLS 1.3: close_notify, the TCP stays open both ways
                    case FIN -> plain.shutdownOutput();        // below TLS: FIN, no close_notify
                    case RST -> {
                        plain.setSoLinger(true, 0);
                        plain.close();
                    }
                }
                reader.join();
                tls.close();
            } catch (Exception e) {
                seen.completeExceptionally(e);
            }
        });
        return seen;
    }

    /** Writes TO_PEER bytes on another thread; {@return its outcome: null, or what it threw} */
    private static CompletableFuture<Throwable> writer(TcpConnection conn) {
        CompletableFuture<Throwable> done = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                for (int i = 0; i < TO_PEER / 16384; i++) {
                    conn.write(new byte[16384]);
                }
                done.complete(null);
            } catch (Throwable t) {
                done.complete(t);
            }
        });
        return done;
    }

    private static TcpConnection connect(ServerSocket listener, String version) throws IOException {
        return TcpConnection.connectTls(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()),
                Duration.ofSeconds(20), TlsPeers.clientContext(), "localhost", TlsPeers.only(version));
    }

    private static ServerSocket listen() throws IOException {
        return new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    }

    @Test
    void tls13CloseNotifyIsTheEndWhileOurWriterCarriesOnAndFinishDelivers() throws Exception {
        try (ServerSocket listener = listen()) {
            CompletableFuture<String> peerSaw = peer(listener, "1.3", PeerEnd.CLOSE_NOTIFY);
            try (TcpConnection conn = connect(listener, "1.3")) {
                CompletableFuture<Throwable> writing = writer(conn);
                byte[] buffer = new byte[16384];
                long total = 0;
                for (int n; (n = conn.read(buffer)) >= 0; ) {
                    total += n;
                }
                assertEquals(FROM_PEER, total);
                assertEquals(null, writing.get(60, TimeUnit.SECONDS), "the writer carried on after the peer's close_notify");
                FinishResult result = conn.finish();
                assertTrue(result.graceful(), result.toString());
                assertEquals("EOF " + TO_PEER, peerSaw.get(60, TimeUnit.SECONDS), "the peer read our close_notify as the end");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2", "1.3"})
    void finWithoutCloseNotifyIsATruncationForTheReaderWhileTheWriterCarriesOn(String version) throws Exception {
        try (ServerSocket listener = listen()) {
            CompletableFuture<String> peerSaw = peer(listener, version, PeerEnd.FIN);
            try (TcpConnection conn = connect(listener, version)) {
                CompletableFuture<Throwable> writing = writer(conn);
                byte[] buffer = new byte[16384];
                long[] total = {0};
                assertThrows(TlsTruncationException.class, () -> {
                    for (int n; (n = conn.read(buffer)) >= 0; ) {
                        total[0] += n;
                    }
                });
                assertEquals(FROM_PEER, total[0], "everything before the FIN is delivered");
                assertEquals(null, writing.get(60, TimeUnit.SECONDS), "the writer carried on: only the peer's direction ended");
                assertTrue(conn.finish().graceful());
                assertEquals("EOF " + TO_PEER, peerSaw.get(60, TimeUnit.SECONDS));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2", "1.3"})
    void rstIsAResetForTheReaderAndTheWriter(String version) throws Exception {
        try (ServerSocket listener = listen()) {
            peer(listener, version, PeerEnd.RST);
            try (TcpConnection conn = connect(listener, version)) {
                CompletableFuture<Throwable> writing = new CompletableFuture<>();
                Thread.ofVirtual().start(() -> {
                    try {
                        while (true) {
                            conn.write(new byte[16384]); // until the reset
                        }
                    } catch (Throwable t) {
                        writing.complete(t);
                    }
                });
                byte[] buffer = new byte[16384];
                assertThrows(ConnectionResetException.class, () -> {
                    while (conn.read(buffer) >= 0) {
                        // until the reset
                    }
                });
                assertInstanceOf(ConnectionResetException.class, writing.get(60, TimeUnit.SECONDS));
                assertThrows(ConnectionResetException.class, () -> conn.read(buffer), "remembered");
                assertTrue(!conn.finish().graceful(), "finish after a reset aborts");
            }
        }
    }
}
