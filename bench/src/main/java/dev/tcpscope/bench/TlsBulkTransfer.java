package dev.tcpscope.bench;

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
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import javax.net.ssl.SSLSocket;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark 8b (issue 14): {@link BulkTransfer} over TLS 1.3 with 16 KiB writes — each one a
 * full TLS record (2^14 bytes of plaintext, the most a record holds). Each invocation sends
 * {@link #ROUND_MIB} MiB; the receiver reads with a 16 KiB buffer and answers one byte once it
 * has them all, so an invocation ends only when the data has arrived and been decrypted. One
 * operation is one MiB: the score is MiB/s of plaintext. Both ends of each variant are of one
 * kind, on virtual threads: tcpscope ({@link TcpConnection#connectTls} to a
 * {@link dev.tcpscope.TcpServer} with TLS, {@code byte[]} buffers) or the JDK's
 * {@link SSLSocket} (to an {@code SSLServerSocket} server, {@link JdkTlsServer}; the baseline).
 * Same cryptography on both, TCP_NODELAY on both ends, no session resumption
 * ({@link TlsSettings}); the handshake is in the setup.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@OperationsPerInvocation(TlsBulkTransfer.ROUND_MIB)
@Fork(jvmArgsAppend = {"--enable-preview", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Djmh.executor=VIRTUAL", TlsSettings.NO_RESUMPTION})
public class TlsBulkTransfer {

    static final int ROUND_MIB = 8;
    static final int ROUND_BYTES = ROUND_MIB << 20;
    static final int CHUNK = 16 * 1024;

    @Benchmark
    public int tcpscopeVirtual(TcpscopePair pair) throws IOException {
        return pair.round();
    }

    @Benchmark
    public int jdkVirtual(JdkPair pair) throws IOException {
        return pair.round();
    }

    @State(Scope.Thread)
    public static class TcpscopePair {
        TcpscopeServer server;
        TcpConnection connection;
        final byte[] chunk = new byte[CHUNK];
        final byte[] ack = new byte[1];

        @Setup(Level.Trial)
        public void open() throws IOException {
            VirtualWorker.require();
            TlsCertificate certificate = TlsCertificate.create();
            server = TcpscopeServer.startTls(TcpscopePair::receive, certificate.serverContext(), TlsSettings::apply);
            connection = TlsSettings.connectTcpscope(certificate.clientContext(), server.address());
            TlsSettings.require(connection.tlsSession().orElseThrow());
        }

        private static void receive(TcpConnection connection, TcpScope<Object, Void> scope) throws IOException {
            connection.noDelay(true); // as JdkTlsServer sets it on every accepted connection
            byte[] buffer = new byte[CHUNK];
            byte[] ack = new byte[1];
            int received = 0;
            int n;
            while ((n = connection.read(buffer)) >= 0) {
                received += n;
                if (received == ROUND_BYTES) {
                    connection.write(ack);
                    received = 0;
                }
            }
        }

        int round() throws IOException {
            for (int sent = 0; sent < ROUND_BYTES; sent += CHUNK) {
                connection.write(chunk);
            }
            if (connection.read(ack) != 1) {
                throw new EOFException("no acknowledgement from the receiver");
            }
            return ack[0];
        }

        @TearDown(Level.Trial)
        public void close() {
            connection.finish();
            server.close();
        }
    }

    /** The JDK's SSLSocket on both ends, on virtual threads. */
    @State(Scope.Thread)
    public static class JdkPair {
        JdkTlsServer server;
        SSLSocket socket;
        InputStream in;
        OutputStream out;
        final byte[] chunk = new byte[CHUNK];
        final byte[] ack = new byte[1];

        @Setup(Level.Trial)
        public void open() throws IOException {
            VirtualWorker.require();
            TlsCertificate certificate = TlsCertificate.create();
            server = JdkTlsServer.start(Thread.ofVirtual().factory(), certificate.serverContext(), TlsSettings::apply,
                    JdkPair::receive);
            socket = TlsSettings.connectJdk(certificate.clientContext(), server.address());
            TlsSettings.require(socket.getSession());
            in = socket.getInputStream();
            out = socket.getOutputStream();
        }

        private static void receive(SSLSocket socket) throws IOException {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            byte[] buffer = new byte[CHUNK];
            byte[] ack = new byte[1];
            int received = 0;
            int n;
            while ((n = in.read(buffer)) >= 0) {
                received += n;
                if (received == ROUND_BYTES) {
                    out.write(ack);
                    received = 0;
                }
            }
        }

        int round() throws IOException {
            for (int sent = 0; sent < ROUND_BYTES; sent += CHUNK) {
                out.write(chunk);
            }
            if (in.read(ack) != 1) {
                throw new EOFException("no acknowledgement from the receiver");
            }
            return ack[0];
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            socket.close();
            server.close();
        }
    }
}
