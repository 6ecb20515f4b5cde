package dev.tcpscope.bench.memory;

import dev.tcpscope.bench.peers.ServerWarmUp;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark 6 (outside JMH): memory per idle connection of a server. For each server
 * implementation a fresh child JVM ({@link IdleServerProcess}) is started; this process opens
 * connections to it, each exchanging one 64-byte message so that the server's per-connection
 * thread is running and then blocked reading — idle. Before and after opening N connections the
 * child runs a full GC and reports its heap in use, and this process reads the child's VmRSS from
 * {@code /proc/PID/status}. Per idle connection: (after - before) / N, for the resident set and
 * for the live heap. The warm-up of every echo server comes first ({@link ServerWarmUp}: 8,000
 * short connections in quick and full), so that class loading and compilation are in the
 * baseline and the idle handlers park in compiled frames, as a long-running server's do: a
 * handler started before its code is compiled stays parked in interpreted frames, which are
 * larger (by hand, 10,000 idle connections, stack chunks per connection: tcpscope 3,026 B cold
 * and 1,055 B after 8,000 warm-up connections, the JDK's 1,160 and 705). Both children run with the same flags
 * ({@code -Xmx1g}, default G1) and a direct 1 KiB echo buffer per connection (a
 * {@code ByteBuffer.allocateDirect}: the JDK's channel needs a buffer, and tcpscope's handler
 * uses the same kind, so that neither echo buffer is on the heap).
 *
 * <pre>java -cp benchmarks.jar dev.tcpscope.bench.memory.IdleConnectionMemory CONNECTIONS OUT_FILE</pre>
 *
 * Appends one tab-separated line per measure to OUT_FILE, in the format of bench/c.
 */
public final class IdleConnectionMemory {

    static final int BUFFER_SIZE = 1024;
    static final int MESSAGE_SIZE = 64;

    private IdleConnectionMemory() {}

    public static void main(String[] args) throws Exception {
        int connections = Integer.parseInt(args[0]);
        Path out = Path.of(args[1]);
        for (String implementation : List.of("tcpscope", "jdk-virtual")) {
            Measure m = measure(implementation, connections);
            String line = String.join("\t", "harness", "memory", implementation, "connections=" + connections,
                    "bytes/conn", String.valueOf(m.rssPerConnection())) + "\n"
                    + String.join("\t", "harness", "memory-heap", implementation, "connections=" + connections,
                    "bytes/conn", String.valueOf(m.heapPerConnection())) + "\n";
            Files.writeString(out, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            System.out.printf("%-12s %,d idle connections: %,d bytes resident and %,d bytes of live heap per connection%n",
                    implementation, connections, m.rssPerConnection(), m.heapPerConnection());
        }
    }

    record Measure(long rssPerConnection, long heapPerConnection) {}

    static Measure measure(String implementation, int connections) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "--enable-preview", "--enable-native-access=ALL-UNNAMED", "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), IdleServerProcess.class.getName(),
                implementation, String.valueOf(BUFFER_SIZE))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try (BufferedReader replies = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
             Writer commands = new PrintWriter(child.getOutputStream(), true, StandardCharsets.UTF_8)) {
            InetSocketAddress server = new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    Integer.parseInt(expect(replies, "port")));
            ServerWarmUp.run(server, MESSAGE_SIZE);
            long heapBefore = Long.parseLong(ask(commands, replies, "heap"));
            long rssBefore = residentBytes(child.pid());
            List<SocketChannel> idle = open(server, connections);
            long heapAfter = Long.parseLong(ask(commands, replies, "heap"));
            long rssAfter = residentBytes(child.pid());
            commands.write("quit\n");
            commands.flush();
            child.waitFor(10, TimeUnit.SECONDS);
            closeAll(idle);
            return new Measure((rssAfter - rssBefore) / connections, (heapAfter - heapBefore) / connections);
        } finally {
            if (!child.waitFor(10, TimeUnit.SECONDS)) {
                child.destroyForcibly();
            }
        }
    }

    /** Opens connections that each exchange one message, leaving the server's side idle. */
    private static List<SocketChannel> open(InetSocketAddress server, int count) throws IOException {
        List<SocketChannel> channels = new ArrayList<>(count);
        ByteBuffer message = ByteBuffer.allocateDirect(MESSAGE_SIZE);
        ByteBuffer reply = ByteBuffer.allocateDirect(MESSAGE_SIZE);
        for (int i = 0; i < count; i++) {
            SocketChannel channel = SocketChannel.open(server);
            channels.add(channel);
            message.clear();
            while (message.hasRemaining()) {
                channel.write(message);
            }
            reply.clear();
            while (reply.hasRemaining()) {
                if (channel.read(reply) < 0) {
                    throw new IOException("the server ended connection " + i);
                }
            }
        }
        return channels;
    }

    private static void closeAll(List<SocketChannel> channels) throws IOException {
        for (SocketChannel channel : channels) {
            channel.close();
        }
    }

    private static String ask(Writer commands, BufferedReader replies, String reply) throws IOException {
        commands.write("measure\n");
        commands.flush();
        return expect(replies, reply);
    }

    private static String expect(BufferedReader replies, String key) throws IOException {
        String line = replies.readLine();
        if (line == null || !line.startsWith(key + " ")) {
            throw new IOException("the server process said " + line + ", expected '" + key + " ...'");
        }
        return line.substring(key.length() + 1).trim();
    }

    /** VmRSS of process {@code pid}, from /proc. */
    static long residentBytes(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS in /proc/" + pid + "/status");
    }
}
