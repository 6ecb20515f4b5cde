package dev.tcpscope.bench;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpScope;
import dev.tcpscope.bench.peers.AcknowledgedRounds;
import dev.tcpscope.bench.peers.JdkServer;
import dev.tcpscope.bench.peers.TcpscopeServer;
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

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark 4: bulk transfer over one connection. Each invocation sends {@link #ROUND_MIB} MiB in
 * 64 KiB writes; the receiver reads them in 64 KiB reads and answers one byte once it has them
 * all, so an invocation ends only when the data has arrived (not when it sits in socket buffers).
 * One operation is one MiB: the score is MiB/s. Both ends are the same implementation:
 * tcpscope ({@code byte[]} buffers, a {@link dev.tcpscope.TcpServer} receiver), the JDK with
 * direct buffers on virtual threads (the baseline) or platform threads. The C baseline is
 * bench/c/bulk.c, outside JMH.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@OperationsPerInvocation(BulkTransfer.ROUND_MIB)
public class BulkTransfer {

    static final int ROUND_MIB = AcknowledgedRounds.ROUND_MIB;
    static final int ROUND_BYTES = AcknowledgedRounds.ROUND_BYTES;
    static final int CHUNK = AcknowledgedRounds.CHUNK;

    @Benchmark
    @Fork(jvmArgsAppend = {"--enable-preview", "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow", "-Djmh.executor=VIRTUAL"})
    public int tcpscopeVirtual(TcpscopePair pair) throws IOException {
        return pair.round();
    }

    @Benchmark
    @Fork(jvmArgsAppend = {"--enable-preview", "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow", "-Djmh.executor=VIRTUAL"})
    public int jdkVirtual(JdkPair pair) throws IOException {
        return pair.round();
    }

    @Benchmark
    @Fork(jvmArgsAppend = {"--enable-preview", "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow"})
    public int jdkPlatform(JdkPair pair) throws IOException {
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
            server = TcpscopeServer.start(TcpscopePair::receive);
            connection = TcpConnection.connect(server.address());
        }

        private static void receive(TcpConnection connection, TcpScope<Object, Void> scope) throws IOException {
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

    /** The JDK on both ends; the receiver's threads are of the same kind as the JMH worker. */
    @State(Scope.Thread)
    public static class JdkPair {
        JdkServer server;
        SocketChannel channel;
        final ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK);
        final ByteBuffer ack = ByteBuffer.allocateDirect(1);

        @Setup(Level.Trial)
        public void open() throws IOException {
            ThreadFactory threads = Thread.currentThread().isVirtual()
                    ? Thread.ofVirtual().factory()
                    : Thread.ofPlatform().daemon().factory();
            server = JdkServer.start(threads, JdkPair::receive);
            channel = SocketChannel.open(server.address());
        }

        private static void receive(SocketChannel channel) throws IOException {
            AcknowledgedRounds.receive(channel);
        }

        int round() throws IOException {
            return AcknowledgedRounds.send(channel, chunk, ack, "receiver");
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            channel.close();
            server.close();
        }
    }
}
