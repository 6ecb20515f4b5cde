package dev.tcpscope.bench;

import dev.tcpscope.bench.peers.Echo;
import dev.tcpscope.bench.peers.EchoLoadClient;
import dev.tcpscope.bench.peers.ServerWarmUp;
import dev.tcpscope.bench.peers.JdkServer;
import dev.tcpscope.bench.peers.NettyEchoServer;
import dev.tcpscope.bench.peers.NettyTransport;
import dev.tcpscope.bench.peers.TcpscopeServer;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark 2: echo throughput of a server, 1 KiB messages, with 1, 100 and 1,000 concurrent
 * connections. The client is the same for every server ({@link EchoLoadClient}: one selector
 * thread, one message in flight per connection); the servers are
 * <ul>
 *   <li>{@code tcpscope}: {@link dev.tcpscope.TcpServer}, a virtual thread and a scope per connection;</li>
 *   <li>{@code jdk-virtual}: the baseline, blocking {@code SocketChannel}s on a virtual thread per connection;</li>
 *   <li>{@code netty-epoll}: Netty's native epoll transport with two event loops (one per core);</li>
 *   <li>{@code netty-io_uring}: the same Netty server on the io_uring transport (bench/run leaves it
 *       out, saying why, where io_uring_setup fails).</li>
 * </ul>
 * Before the measured connections, each server gets the same warm-up of short connections
 * ({@link ServerWarmUp}), so that the handlers' frames start compiled, as a long-running server's do.
 * The score that matters is the secondary result {@code messages} (messages echoed per second);
 * the primary one counts rounds.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Fork(jvmArgsAppend = {"--enable-preview", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class EchoThroughput {

    static final int MESSAGE_SIZE = 1024;

    @Param({"tcpscope", "jdk-virtual", "netty-epoll", "netty-io_uring"})
    public String server;

    @Param({"1", "100", "1000"})
    public int connections;

    private AutoCloseable running;
    private EchoLoadClient client;

    /** Messages echoed, reported per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Messages {
        public long messages;

        @Setup(Level.Iteration)
        public void reset() {
            messages = 0;
        }
    }

    @Setup(Level.Trial)
    public void start() throws Exception {
        InetSocketAddress address = switch (server) {
            case "tcpscope" -> {
                TcpscopeServer s = TcpscopeServer.start(Echo.tcpscope(Echo.BUFFER_SIZE));
                running = s;
                yield s.address();
            }
            case "jdk-virtual" -> {
                JdkServer s = JdkServer.start(Thread.ofVirtual().factory(), Echo.jdk(Echo.BUFFER_SIZE));
                running = s;
                yield s.address();
            }
            case "netty-epoll", "netty-io_uring" -> {
                NettyTransport transport = NettyTransport.of(server.substring("netty-".length()));
                NettyEchoServer s = NettyEchoServer.start(transport, Runtime.getRuntime().availableProcessors());
                running = s;
                yield s.address();
            }
            default -> throw new IllegalArgumentException("unknown server: " + server);
        };
        ServerWarmUp.run(address, MESSAGE_SIZE); // before the measured connections: see ServerWarmUp
        client = EchoLoadClient.connect(address, connections, MESSAGE_SIZE);
    }

    @Benchmark
    public void round(Messages counter) throws IOException {
        counter.messages += client.round();
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        client.close();
        running.close();
    }
}
