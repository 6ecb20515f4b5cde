package dev.tcpscope.bench;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.bench.peers.Echo;
import dev.tcpscope.bench.peers.JdkServer;
import dev.tcpscope.bench.peers.NettyEchoServer;
import dev.tcpscope.bench.peers.NettyPingPongClient;
import dev.tcpscope.bench.peers.NettyTransport;
import dev.tcpscope.bench.peers.TcpscopeServer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark 1: the round trip of one message over one connection (the client writes it, the
 * server echoes it, the client reads all of it back), 64 B and 16 KiB, with TCP_NODELAY.
 * Client and server are of the same kind in each variant:
 * <ul>
 *   <li>{@code tcpscopeVirtual}: {@link TcpConnection} on a virtual thread against a
 *       {@link dev.tcpscope.TcpServer} (whose handlers are virtual threads);</li>
 *   <li>{@code jdkVirtual} / {@code jdkPlatform}: blocking {@link SocketChannel} with direct
 *       buffers, client and server on virtual (resp. platform) threads — the baseline is
 *       {@code jdkVirtual};</li>
 *   <li>{@code nettyEpoll}: Netty's native epoll transport, round trips driven inside the client's
 *       event loop, batches of {@link #NETTY_BATCH};</li>
 *   <li>{@code nettyIoUring}: the same on Netty's io_uring transport (bench/run leaves it out,
 *       saying why, where io_uring_setup fails).</li>
 * </ul>
 * The virtual variants run the JMH worker itself as a virtual thread ({@code -Djmh.executor=VIRTUAL});
 * their setup checks that it is one. The C baseline is bench/c/pingpong.c, outside JMH.
 *
 * <p>Sample mode: every round trip is timed, so the report has the median as well as the mean.
 * On a shared 2-core machine virtual-thread round trips are bimodal (whole iterations at several
 * times the usual latency happen, for the JDK as for tcpscope), which the mean and its error show
 * and the median does not hide. JMH's CSV has the percentiles ({@code :p0.50}, {@code :p0.99}...).
 *
 * <p>Every variant also counts its round trips and the JVM's voluntary context switches per
 * iteration ({@link KernelSleeps}): the kernel sleeps per round trip.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class PingPong {

    static final int NETTY_BATCH = 100;

    @State(Scope.Benchmark)
    public static class Size {
        @Param({"64", "16384"})
        public int bytes;
    }

    @Benchmark
    @Fork(jvmArgsAppend = {"--enable-preview", "--enable-native-access=ALL-UNNAMED", "-Djmh.executor=VIRTUAL"})
    public int tcpscopeVirtual(TcpscopePair pair, KernelSleeps sleeps) throws IOException {
        sleeps.roundTrips++;
        return pair.roundTrip();
    }

    @Benchmark
    @Fork(jvmArgsAppend = {"--enable-preview", "--enable-native-access=ALL-UNNAMED", "-Djmh.executor=VIRTUAL"})
    public int jdkVirtual(JdkPair pair, KernelSleeps sleeps) throws IOException {
        sleeps.roundTrips++;
        return pair.roundTrip();
    }

    @Benchmark
    @Fork(jvmArgsAppend = {"--enable-preview", "--enable-native-access=ALL-UNNAMED"})
    public int jdkPlatform(JdkPair pair, KernelSleeps sleeps) throws IOException {
        sleeps.roundTrips++;
        return pair.roundTrip();
    }

    @Benchmark
    @OperationsPerInvocation(NETTY_BATCH)
    @Fork(jvmArgsAppend = {"--enable-preview", "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow"})
    public int nettyEpoll(NettyPair pair, KernelSleeps sleeps) {
        sleeps.roundTrips += NETTY_BATCH;
        return pair.client.roundTrips(NETTY_BATCH);
    }

    @Benchmark
    @OperationsPerInvocation(NETTY_BATCH)
    @Fork(jvmArgsAppend = {"--enable-preview", "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow"})
    public int nettyIoUring(NettyPair pair, KernelSleeps sleeps) {
        sleeps.roundTrips += NETTY_BATCH;
        return pair.client.roundTrips(NETTY_BATCH);
    }

    /** tcpscope on both ends. */
    @State(Scope.Thread)
    public static class TcpscopePair {
        TcpscopeServer server;
        TcpConnection connection;
        byte[] message;
        byte[] reply;

        @Setup(Level.Trial)
        public void open(Size size) throws IOException {
            VirtualWorker.require();
            server = TcpscopeServer.start(Echo.tcpscope(Echo.BUFFER_SIZE));
            connection = TcpConnection.connect(server.address());
            connection.noDelay(true);
            message = new byte[size.bytes];
            reply = new byte[size.bytes];
        }

        int roundTrip() throws IOException {
            connection.write(message);
            int received = 0;
            while (received < reply.length) {
                int n = connection.read(reply, received, reply.length - received);
                if (n < 0) {
                    throw new EOFException("the echo server ended the connection");
                }
                received += n;
            }
            return received;
        }

        @TearDown(Level.Trial)
        public void close() {
            connection.finish();
            server.close();
        }
    }

    /** The JDK on both ends; the server's threads are of the same kind as the JMH worker. */
    @State(Scope.Thread)
    public static class JdkPair {
        JdkServer server;
        SocketChannel channel;
        ByteBuffer message;
        ByteBuffer reply;

        @Setup(Level.Trial)
        public void open(Size size) throws IOException {
            ThreadFactory threads = Thread.currentThread().isVirtual()
                    ? Thread.ofVirtual().factory()
                    : Thread.ofPlatform().daemon().factory();
            server = JdkServer.start(threads, Echo.jdk(Echo.BUFFER_SIZE));
            channel = SocketChannel.open(server.address());
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            message = ByteBuffer.allocateDirect(size.bytes);
            reply = ByteBuffer.allocateDirect(size.bytes);
        }

        int roundTrip() throws IOException {
            message.clear();
            while (message.hasRemaining()) {
                channel.write(message);
            }
            reply.clear();
            while (reply.hasRemaining()) {
                if (channel.read(reply) < 0) {
                    throw new EOFException("the echo server ended the connection");
                }
            }
            return reply.position();
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            channel.close();
            server.close();
        }
    }

    /** Netty on both ends, one event loop each, on the transport the benchmark's name says. */
    @State(Scope.Thread)
    public static class NettyPair {
        NettyEchoServer server;
        NettyPingPongClient client;

        @Setup(Level.Trial)
        public void open(Size size, BenchmarkParams benchmark) throws InterruptedException {
            NettyTransport transport = benchmark.getBenchmark().endsWith(".nettyIoUring")
                    ? NettyTransport.IO_URING : NettyTransport.EPOLL;
            server = NettyEchoServer.start(transport, 1);
            client = NettyPingPongClient.connect(transport, server.address(), size.bytes);
        }

        @TearDown(Level.Trial)
        public void close() {
            client.close();
            server.close();
        }
    }
}
