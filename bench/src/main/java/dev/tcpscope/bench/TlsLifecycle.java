package dev.tcpscope.bench;

import dev.tcpscope.FinishResult;
import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpScope;
import dev.tcpscope.bench.peers.JdkTlsServer;
import dev.tcpscope.bench.peers.TcpscopeServer;
import dev.tcpscope.bench.peers.TlsCertificate;
import dev.tcpscope.bench.peers.TlsSettings;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark 8c (issue 14): {@link ConnectionLifecycle} over TLS 1.3 — connections per second for a
 * whole short connection with its handshake: connect, a full TLS handshake (no resumption:
 * {@link TlsSettings}), TCP_NODELAY, a 64-byte request, a 64-byte reply, then the graceful ending;
 * on one virtual thread, one connection after another. (Without TCP_NODELAY the request, written
 * right after the client's Finished, waits about 40 ms for the server's delayed ACK on both
 * clients: {@link TlsSettings} says how that was measured.)
 *
 * <p>The core variants talk to the same server, the JDK's {@code SSLServerSocket} with a virtual
 * thread per connection ({@link JdkTlsServer}: read the request, reply, read until the client's
 * {@code close_notify} or EOF, close: its own {@code close_notify}, then FIN):
 * <ul>
 *   <li>{@code tcpscopeFinish}: {@link TcpConnection#connectTls}, then {@link TcpConnection#finish()}:
 *       {@code close_notify}, then FIN, drain until the server's FIN, wait until SIOCOUTQ is 0,
 *       close;</li>
 *   <li>{@code jdkGraceful}: the JDK's {@link SSLSocket} (handshake by {@code startHandshake()}),
 *       then its graceful ending as its documentation shows: {@code shutdownOutput()} (TLS 1.3
 *       half-close: {@code close_notify}, then FIN), read to EOF (the server's
 *       {@code close_notify}), {@code close()} — the baseline.</li>
 * </ul>
 * {@code tcpscopeFinishTcpServer} is the whole tcpscope stack: the same client against a
 * {@link dev.tcpscope.TcpServer} with TLS whose handler replies and returns (its scope then
 * sends {@code close_notify} and finishes the connection from the server's side too).
 *
 * <p>The certificate is made once per trial; every handshake verifies it (ECDSA P-256) and
 * checks it against {@value TlsSettings#SERVER_NAME}, on both clients.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(jvmArgsAppend = {"--enable-preview", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Djmh.executor=VIRTUAL", TlsSettings.NO_RESUMPTION})
public class TlsLifecycle {

    static final int REQUEST_SIZE = ConnectionLifecycle.REQUEST_SIZE;

    @Benchmark
    public FinishResult tcpscopeFinish(JdkPeer peer) throws IOException {
        return finishOnce(peer.address, peer.clientContext, peer.request, peer.reply);
    }

    @Benchmark
    public int jdkGraceful(JdkPeer peer) throws IOException {
        try (SSLSocket socket = TlsSettings.connectJdk(peer.clientContext, peer.address)) {
            socket.getOutputStream().write(peer.request);
            InputStream in = socket.getInputStream();
            TlsPingPong.readFully(in, peer.reply);
            socket.shutdownOutput();
            while (in.read(peer.reply) >= 0) {
                // nothing more is sent: this waits for the server's close_notify
            }
            return peer.reply[0];
        }
    }

    @Benchmark
    public FinishResult tcpscopeFinishTcpServer(TcpscopePeer peer) throws IOException {
        return finishOnce(peer.address, peer.clientContext, peer.request, peer.reply);
    }

    private static FinishResult finishOnce(InetSocketAddress address, SSLContext context, byte[] request,
                                           byte[] reply) throws IOException {
        try (TcpConnection connection = TlsSettings.connectTcpscope(context, address)) {
            ConnectionLifecycle.exchange(connection, request, reply);
            return ConnectionLifecycle.delivered(connection.finish());
        }
    }

    /** The JDK TLS server both core variants talk to, with the trial's certificate. */
    @State(Scope.Thread)
    public static class JdkPeer {
        JdkTlsServer server;
        InetSocketAddress address;
        SSLContext clientContext;
        final byte[] request = new byte[REQUEST_SIZE];
        final byte[] reply = new byte[REQUEST_SIZE];

        @Setup(Level.Trial)
        public void start() throws IOException {
            VirtualWorker.require();
            TlsCertificate certificate = TlsCertificate.create();
            clientContext = certificate.clientContext();
            server = JdkTlsServer.start(Thread.ofVirtual().factory(), certificate.serverContext(), TlsSettings::apply,
                    JdkPeer::serve);
            address = server.address();
            // One connection of each client to check what they negotiate; not measured.
            try (SSLSocket socket = TlsSettings.connectJdk(clientContext, address)) {
                TlsSettings.require(socket.getSession());
            }
            try (TcpConnection connection = TlsSettings.connectTcpscope(clientContext, address)) {
                TlsSettings.require(connection.tlsSession().orElseThrow());
                connection.abort();
            }
        }

        /** Reads the request, replies, then reads until the client's close_notify (or EOF); the server closes. */
        static void serve(SSLSocket socket) throws IOException {
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[REQUEST_SIZE];
            TlsPingPong.readFully(in, buffer);
            socket.getOutputStream().write(buffer);
            while (in.read(buffer) >= 0) {
                // the client sends nothing more: this waits for its close_notify
            }
        }

        @TearDown(Level.Trial)
        public void stop() throws IOException {
            server.close();
        }
    }

    /** A tcpscope TLS server: reply, return, and the server's scope finishes the connection. */
    @State(Scope.Thread)
    public static class TcpscopePeer {
        TcpscopeServer server;
        InetSocketAddress address;
        SSLContext clientContext;
        final byte[] request = new byte[REQUEST_SIZE];
        final byte[] reply = new byte[REQUEST_SIZE];

        @Setup(Level.Trial)
        public void start() throws IOException {
            VirtualWorker.require();
            TlsCertificate certificate = TlsCertificate.create();
            clientContext = certificate.clientContext();
            server = TcpscopeServer.startTls(TcpscopePeer::serve, certificate.serverContext(), TlsSettings::apply);
            address = server.address();
        }

        /** TCP_NODELAY (as {@link JdkTlsServer} sets it), then {@link ConnectionLifecycle}'s handler. */
        private static void serve(TcpConnection connection, TcpScope<Object, Void> scope) throws IOException {
            connection.noDelay(true);
            ConnectionLifecycle.TcpscopePeer.serve(connection, scope);
        }

        @TearDown(Level.Trial)
        public void stop() {
            server.close();
        }
    }
}
