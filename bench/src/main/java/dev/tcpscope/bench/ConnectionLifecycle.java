package dev.tcpscope.bench;

import dev.tcpscope.FinishResult;
import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpScope;
import dev.tcpscope.bench.peers.JdkServer;
import dev.tcpscope.bench.peers.TcpscopeServer;
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

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark 3: connections per second for a whole short connection — connect, a 64-byte request,
 * a 64-byte reply, then the ending — on one virtual thread, one connection after another.
 *
 * <p>The four core variants talk to the same server (JDK, a virtual thread per connection: read
 * the request, reply, read until the client's FIN or RST, close), so only the client differs:
 * <ul>
 *   <li>{@code tcpscopeFinish}: {@link TcpConnection#finish()}: FIN, drain, wait until SIOCOUTQ
 *       is 0 and the peer's FIN arrives, clear SO_LINGER, close;</li>
 *   <li>{@code jdkGraceful}: its JDK equivalent and baseline: {@code shutdownOutput()}, read to EOF,
 *       {@code close()};</li>
 *   <li>{@code tcpscopeAbort}: {@link TcpConnection#abort()}: RST;</li>
 *   <li>{@code jdkLingerZero}: its JDK equivalent: SO_LINGER 0, then {@code close()}: RST.</li>
 * </ul>
 * {@code tcpscopeFinishServerProcess} and {@code jdkGracefulServerProcess} repeat the two graceful
 * variants against the same JDK server alone in a JVM of its own, where the client's threads do
 * not take the server's carriers. {@code tcpscopeFinishTcpServer} is the whole tcpscope stack: the same client against a
 * {@link dev.tcpscope.TcpServer} whose handler replies and returns (its scope then finishes the
 * connection gracefully from the server's side as well).
 *
 * <p>Every variant uses try-with-resources, as the libraries' documentation shows. Graceful
 * variants leave the client's side in TIME_WAIT; Linux reuses such ports for loopback
 * connections (net.ipv4.tcp_tw_reuse = 2, the default).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(jvmArgsAppend = {"--enable-preview", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Djmh.executor=VIRTUAL"})
public class ConnectionLifecycle {

    static final int REQUEST_SIZE = 64;

    @Benchmark
    public FinishResult tcpscopeFinish(JdkPeer peer) throws IOException {
        return finishOnce(peer.address, peer.request, peer.reply);
    }

    /** {@link #tcpscopeFinish} against the same JDK server alone in its own JVM. */
    @Benchmark
    public FinishResult tcpscopeFinishServerProcess(ServerProcessPeer peer) throws IOException {
        return finishOnce(peer.address, peer.request, peer.reply);
    }

    private static FinishResult finishOnce(InetSocketAddress address, byte[] request, byte[] reply) throws IOException {
        try (TcpConnection connection = TcpConnection.connect(address)) {
            exchange(connection, request, reply);
            return delivered(connection.finish());
        }
    }

    @Benchmark
    public int tcpscopeAbort(JdkPeer peer) throws IOException {
        try (TcpConnection connection = TcpConnection.connect(peer.address)) {
            exchange(connection, peer.request, peer.reply);
            connection.abort();
            return peer.reply[0];
        }
    }

    @Benchmark
    public int jdkGraceful(JdkPeer peer) throws IOException {
        return jdkGracefulOnce(peer.address, peer.requestBuffer, peer.replyBuffer);
    }

    /** {@link #jdkGraceful} against the same JDK server alone in its own JVM. */
    @Benchmark
    public int jdkGracefulServerProcess(ServerProcessPeer peer) throws IOException {
        return jdkGracefulOnce(peer.address, peer.requestBuffer, peer.replyBuffer);
    }

    private static int jdkGracefulOnce(InetSocketAddress address, ByteBuffer request, ByteBuffer reply) throws IOException {
        try (SocketChannel channel = SocketChannel.open(address)) {
            exchange(channel, request, reply);
            channel.shutdownOutput();
            reply.clear();
            while (channel.read(reply) >= 0) {
                reply.clear();
            }
            return reply.position();
        }
    }

    @Benchmark
    public int jdkLingerZero(JdkPeer peer) throws IOException {
        try (SocketChannel channel = SocketChannel.open(peer.address)) {
            exchange(channel, peer.requestBuffer, peer.replyBuffer);
            channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            return peer.replyBuffer.position();
        }
    }

    @Benchmark
    public FinishResult tcpscopeFinishTcpServer(TcpscopePeer peer) throws IOException {
        try (TcpConnection connection = TcpConnection.connect(peer.address)) {
            exchange(connection, peer.request, peer.reply);
            return delivered(connection.finish());
        }
    }

    /** The JDK server every core variant talks to. */
    @State(Scope.Thread)
    public static class JdkPeer {
        JdkServer server;
        InetSocketAddress address;
        final byte[] request = new byte[REQUEST_SIZE];
        final byte[] reply = new byte[REQUEST_SIZE];
        final ByteBuffer requestBuffer = ByteBuffer.allocateDirect(REQUEST_SIZE);
        final ByteBuffer replyBuffer = ByteBuffer.allocateDirect(REQUEST_SIZE);

        @Setup(Level.Trial)
        public void start() throws IOException {
            VirtualWorker.require();
            server = JdkServer.start(Thread.ofVirtual().factory(), JdkPeer::serve);
            address = server.address();
        }

        /** Reads the request, replies, then reads until the client's FIN (or RST); the server closes. */
        static void serve(SocketChannel channel) throws IOException {
            ByteBuffer buffer = ByteBuffer.allocateDirect(REQUEST_SIZE);
            while (buffer.hasRemaining()) {
                if (channel.read(buffer) < 0) {
                    throw new EOFException("the client ended before its request");
                }
            }
            buffer.flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            buffer.clear();
            while (channel.read(buffer) >= 0) {
                buffer.clear();
            }
        }

        @TearDown(Level.Trial)
        public void stop() throws IOException {
            server.close();
        }
    }

    /**
     * The same JDK server in a JVM of its own ({@link LifecycleServerProcess}): in the
     * in-process variants the client's threads (and tcpscope's polling threads) share the two
     * carriers with the server's, which a server in another process does not.
     */
    @State(Scope.Thread)
    public static class ServerProcessPeer {
        Process server;
        InetSocketAddress address;
        final byte[] request = new byte[REQUEST_SIZE];
        final byte[] reply = new byte[REQUEST_SIZE];
        final ByteBuffer requestBuffer = ByteBuffer.allocateDirect(REQUEST_SIZE);
        final ByteBuffer replyBuffer = ByteBuffer.allocateDirect(REQUEST_SIZE);

        @Setup(Level.Trial)
        public void start() throws IOException {
            VirtualWorker.require();
            server = LifecycleServerProcess.start();
            address = LifecycleServerProcess.address(server);
        }

        @TearDown(Level.Trial)
        public void stop() throws IOException, InterruptedException {
            server.getOutputStream().close(); // its end of input: it exits
            if (!server.waitFor(30, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    /** A tcpscope server: reply, return, and the server's scope finishes the connection. */
    @State(Scope.Thread)
    public static class TcpscopePeer {
        TcpscopeServer server;
        InetSocketAddress address;
        final byte[] request = new byte[REQUEST_SIZE];
        final byte[] reply = new byte[REQUEST_SIZE];

        @Setup(Level.Trial)
        public void start() throws IOException {
            VirtualWorker.require();
            server = TcpscopeServer.start(TcpscopePeer::serve);
            address = server.address();
        }

        /** Reads the request and replies; returning ends it gracefully (also {@link TlsLifecycle}'s handler). */
        static void serve(TcpConnection connection, TcpScope<Object, Void> scope) throws IOException {
            byte[] buffer = new byte[REQUEST_SIZE];
            readFully(connection, buffer);
            connection.write(buffer);
        }

        @TearDown(Level.Trial)
        public void stop() {
            server.close();
        }
    }

    static void exchange(TcpConnection connection, byte[] request, byte[] reply) throws IOException {
        connection.write(request);
        readFully(connection, reply);
    }

    static void readFully(TcpConnection connection, byte[] buffer) throws IOException {
        int received = 0;
        while (received < buffer.length) {
            int n = connection.read(buffer, received, buffer.length - received);
            if (n < 0) {
                throw new EOFException("the peer ended the connection early");
            }
            received += n;
        }
    }

    private static void exchange(SocketChannel channel, ByteBuffer request, ByteBuffer reply) throws IOException {
        request.clear();
        while (request.hasRemaining()) {
            channel.write(request);
        }
        reply.clear();
        while (reply.hasRemaining()) {
            if (channel.read(reply) < 0) {
                throw new EOFException("the peer ended the connection early");
            }
        }
    }

    static FinishResult delivered(FinishResult result) {
        if (!result.delivered()) {
            throw new IllegalStateException("finish() did not deliver: " + result);
        }
        return result;
    }
}
