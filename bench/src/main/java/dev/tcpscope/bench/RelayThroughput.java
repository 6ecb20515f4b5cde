package dev.tcpscope.bench;

import dev.tcpscope.bench.peers.AcknowledgedRounds;
import dev.tcpscope.bench.peers.JdkServer;
import dev.tcpscope.bench.relay.RelayPumps;
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

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark 8 (issue 15): a relay's throughput, client → relay → upstream, in MiB/s and CPU per
 * GiB relayed ({@link RelayCpu}). The client (the JMH worker, a JDK {@link SocketChannel}) sends
 * {@link #ROUND_MIB} MiB in 64 KiB writes; the upstream (a JDK receiver, as in
 * {@link BulkTransfer}) answers one byte once it has them all, and the byte comes back through the
 * relay, so a round ends only when the data has crossed both hops. One operation is one MiB.
 *
 * <p>The relay is the only thing that differs ({@link RelayPumps}): tcpscope's
 * {@code transferTo} (splice(2) on the native transport), tcpscope with the relay example's former
 * copy loop, and the JDK's channels with a copy loop (the baseline). Everything runs in one JVM on
 * the machine's cores: client, relay and upstream share them, and the CPU figure is the whole
 * process's.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@OperationsPerInvocation(RelayThroughput.ROUND_MIB)
@Fork(jvmArgsAppend = {"--enable-preview", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow", "-Djmh.executor=VIRTUAL"})
public class RelayThroughput {

    static final int ROUND_MIB = AcknowledgedRounds.ROUND_MIB;
    static final int ROUND_BYTES = AcknowledgedRounds.ROUND_BYTES;
    static final int CHUNK = AcknowledgedRounds.CHUNK;

    @Benchmark
    public int relay(Path path, RelayCpu cpu) throws IOException {
        int ack = path.round();
        cpu.mib += ROUND_MIB;
        return ack;
    }

    /** One client, one relay of the kind {@link #relay} names, one upstream. */
    @State(Scope.Thread)
    public static class Path {

        /** Which relay: {@code splice} (tcpscope transferTo), {@code copyLoop} (tcpscope, byte[]), {@code jdk}. */
        @Param({"splice", "copyLoop", "jdk"})
        public String relay;

        JdkServer upstream;
        RelayPumps.Relay relayed;
        SocketChannel client;
        final ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK);
        final ByteBuffer ack = ByteBuffer.allocateDirect(1);

        @Setup(Level.Trial)
        public void open() throws IOException {
            VirtualWorker.require();
            upstream = JdkServer.start(Thread.ofVirtual().factory(), Path::receive);
            relayed = switch (relay) {
                case "splice" -> RelayPumps.splice(upstream.address());
                case "copyLoop" -> RelayPumps.copyLoop(upstream.address());
                case "jdk" -> RelayPumps.jdkChannels(upstream.address());
                default -> throw new IllegalArgumentException("relay: " + relay);
            };
            client = SocketChannel.open(relayed.address());
        }

        private static void receive(SocketChannel channel) throws IOException {
            AcknowledgedRounds.receive(channel);
        }

        int round() throws IOException {
            return AcknowledgedRounds.send(client, chunk, ack, "upstream");
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            client.close();
            relayed.close();
            upstream.close();
        }
    }
}
