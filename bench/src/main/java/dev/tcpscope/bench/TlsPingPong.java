package dev.tcpscope.bench;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.bench.peers.Echo;
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

import javax.net.ssl.SSLSocket;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark 8a (issue 14): {@link PingPong} over TLS 1.3 — the round trip of one message of 64 B
 * or 16 KiB (one TLS record either way) over one connection, with TCP_NODELAY on both ends, every round trip
 * timed (sample mode: median, p99, mean) and the kernel sleeps per round trip counted
 * ({@link KernelSleeps}). Both ends of each variant are of one kind, on virtual threads
 * ({@code -Djmh.executor=VIRTUAL}, checked in the setup):
 * <ul>
 *   <li>{@code tcpscopeVirtual}: {@link TcpConnection#connectTls} against a
 *       {@link dev.tcpscope.TcpServer} with TLS, {@code byte[]} buffers;</li>
 *   <li>{@code jdkVirtual} (the baseline): the JDK's {@link SSLSocket} against an
 *       {@code SSLServerSocket} server ({@link JdkTlsServer}), through their streams.</li>
 * </ul>
 * Same version, cipher suite, key exchange and kind of certificate on both (made once per
 * trial), no session resumption: see {@link TlsSettings}. The handshake is in the setup, outside
 * the measurement.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(jvmArgsAppend = {"--enable-preview", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Djmh.executor=VIRTUAL", TlsSettings.NO_RESUMPTION})
public class TlsPingPong {

    @Benchmark
    public int tcpscopeVirtual(TcpscopePair pair, KernelSleeps sleeps) throws IOException {
        sleeps.roundTrips++;
        return pair.roundTrip();
    }

    @Benchmark
    public int jdkVirtual(JdkPair pair, KernelSleeps sleeps) throws IOException {
        sleeps.roundTrips++;
        return pair.roundTrip();
    }

    /** tcpscope on both ends. */
    @State(Scope.Thread)
    public static class TcpscopePair {
        TcpscopeServer server;
        TcpConnection connection;
        byte[] message;
        byte[] reply;

        @Setup(Level.Trial)
        public void open(PingPong.Size size) throws IOException {
            VirtualWorker.require();
            TlsCertificate certificate = TlsCertificate.create();
            server = TcpscopeServer.startTls(Echo.tcpscope(Echo.BUFFER_SIZE), certificate.serverContext(),
                    TlsSettings::apply);
            connection = TlsSettings.connectTcpscope(certificate.clientContext(), server.address());
            TlsSettings.require(connection.tlsSession().orElseThrow());
            message = new byte[size.bytes];
            reply = new byte[size.bytes];
        }

        int roundTrip() throws IOException {
            connection.write(message);
            ConnectionLifecycle.readFully(connection, reply);
            return reply.length;
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
        byte[] message;
        byte[] reply;

        @Setup(Level.Trial)
        public void open(PingPong.Size size) throws IOException {
            VirtualWorker.require();
            TlsCertificate certificate = TlsCertificate.create();
            server = JdkTlsServer.start(Thread.ofVirtual().factory(), certificate.serverContext(), TlsSettings::apply,
                    Echo.jdkTls(Echo.BUFFER_SIZE));
            socket = TlsSettings.connectJdk(certificate.clientContext(), server.address());
            TlsSettings.require(socket.getSession());
            in = socket.getInputStream();
            out = socket.getOutputStream();
            message = new byte[size.bytes];
            reply = new byte[size.bytes];
        }

        int roundTrip() throws IOException {
            out.write(message);
            readFully(in, reply);
            return reply.length;
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            socket.close();
            server.close();
        }
    }

    /** Reads exactly {@code buffer.length} bytes from an {@code SSLSocket}'s stream. */
    static void readFully(InputStream in, byte[] buffer) throws IOException {
        int received = 0;
        while (received < buffer.length) {
            int n = in.read(buffer, received, buffer.length - received);
            if (n < 0) {
                throw new EOFException("the peer ended the connection early");
            }
            received += n;
        }
    }
}
