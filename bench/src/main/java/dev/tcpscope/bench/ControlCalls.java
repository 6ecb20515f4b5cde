package dev.tcpscope.bench;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.internal.socket.Connector;
import dev.tcpscope.internal.socket.NativeSocket;
import dev.tcpscope.internal.socket.SocketOptions;
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

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark 5: the cost of one socket control call, tcpscope's FFM downcalls against the JDK's
 * {@code setOption}/{@code getOption} (JNI), on connected loopback sockets, from a platform
 * thread. tcpscope's internal {@link SocketOptions} is used directly for the calls its endings
 * make (setsockopt SO_LINGER, getsockopt, ioctl SIOCOUTQ) — which is why the benchmarks run the
 * library on the class path — and the public {@link TcpConnection#noDelay(boolean)}/{@code noDelay()}
 * for what users call. The JDK has no SIOCOUTQ: {@code ffmUnacknowledged} has no JDK pair.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(jvmArgsAppend = {"--enable-preview", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class ControlCalls {

    private TcpListener listener;
    private final List<TcpConnection> accepted = new ArrayList<>();
    private NativeSocket socket;
    private SocketOptions options;
    private TcpConnection connection;
    private SocketChannel channel;

    @Setup(Level.Trial)
    public void open() throws IOException {
        listener = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        InetSocketAddress address = listener.localAddress();
        socket = new Connector(LinuxSyscalls.INSTANCE, Poller.shared()).connect(address, Duration.ofSeconds(5), null, s -> {});
        accepted.add(listener.accept());
        options = socket.options();
        connection = TcpConnection.connect(address);
        accepted.add(listener.accept());
        channel = SocketChannel.open(address);
        accepted.add(listener.accept());
    }

    @Benchmark
    public void ffmSetLinger() throws IOException {
        options.setLinger(SocketOptions.Linger.ABORT);
    }

    @Benchmark
    public void jdkSetLinger() throws IOException {
        channel.setOption(StandardSocketOptions.SO_LINGER, 0);
    }

    @Benchmark
    public int ffmGetNoDelay() throws IOException {
        return options.getInt(SocketOptions.IPPROTO_TCP, SocketOptions.TCP_NODELAY);
    }

    @Benchmark
    public boolean jdkGetNoDelay() throws IOException {
        return channel.getOption(StandardSocketOptions.TCP_NODELAY);
    }

    @Benchmark
    public int ffmUnacknowledged() throws IOException {
        return options.unacknowledged();
    }

    @Benchmark
    public void apiSetNoDelay() throws IOException {
        connection.noDelay(true);
    }

    @Benchmark
    public void jdkSetNoDelay() throws IOException {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    }

    @Benchmark
    public boolean apiNoDelay() throws IOException {
        return connection.noDelay();
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        socket.close("benchmark over", null);
        connection.abort();
        channel.close();
        accepted.forEach(TcpConnection::abort);
        listener.close();
    }
}
