package dev.tcpscope.bench.firstconnection;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * First connection in a fresh JVM (outside JMH): the wall time of a whole Java process that
 * connects once on loopback, exchanges a byte and ends ({@link FirstConnection}), tcpscope against
 * the JDK. The harness listens on loopback (a JDK echo of one byte per connection, then read to
 * EOF and close), starts the child JVMs one after another — alternating which goes first in each
 * round, after one uncounted warm-up run of each (file cache) — and times each from
 * {@code ProcessBuilder.start()} to its exit. Both children run the same {@code java} with the same
 * flags and class path ({@code --enable-preview --enable-native-access=ALL-UNNAMED -cp benchmarks.jar}).
 *
 * <pre>java -cp benchmarks.jar dev.tcpscope.bench.firstconnection.FirstConnectionHarness RUNS OUT_FILE</pre>
 *
 * Appends, per implementation, tab-separated lines in the format of bench/c: every run's wall
 * time ({@code first-connection}), their median ({@code :p0.50}), and the same for the time inside
 * the child's {@code main} ({@code first-connection-main}), in milliseconds.
 */
public final class FirstConnectionHarness {

    private static final List<String> IMPLEMENTATIONS = List.of("tcpscope", "jdk");

    private FirstConnectionHarness() {}

    /** Runs {@code args[0]} fresh JVMs of each implementation and appends the times to file {@code args[1]}. */
    public static void main(String[] args) throws Exception {
        int runs = Integer.parseInt(args[0]);
        Path out = Path.of(args[1]);
        Map<String, List<double[]>> times = new LinkedHashMap<>();
        IMPLEMENTATIONS.forEach(i -> times.put(i, new ArrayList<>()));
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Thread.ofPlatform().daemon().name("first-connection-listener").start(() -> serve(listener));
            int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
            for (String implementation : IMPLEMENTATIONS) {
                run(implementation, port);                         // warm-up, not counted
            }
            for (int round = 0; round < runs; round++) {
                List<String> order = round % 2 == 0 ? IMPLEMENTATIONS : IMPLEMENTATIONS.reversed();
                for (String implementation : order) {
                    times.get(implementation).add(run(implementation, port));
                }
            }
        }
        StringBuilder lines = new StringBuilder();
        for (var entry : times.entrySet()) {
            double[] wall = entry.getValue().stream().mapToDouble(t -> t[0]).toArray();
            double[] inMain = entry.getValue().stream().mapToDouble(t -> t[1]).toArray();
            lines.append(line("first-connection", entry.getKey(), runs, wall));
            lines.append(line("first-connection", entry.getKey() + ":p0.50", runs, median(wall)));
            lines.append(line("first-connection-main", entry.getKey(), runs, inMain));
            lines.append(line("first-connection-main", entry.getKey() + ":p0.50", runs, median(inMain)));
            System.out.printf(Locale.ROOT, "%-9s first connection in a fresh JVM, %d runs: median %.1f ms (process), %.1f ms inside main%n",
                    entry.getKey(), runs, median(wall), median(inMain));
        }
        Files.writeString(out, lines, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** {@return the process's wall time and its time inside main, in milliseconds} */
    private static double[] run(String implementation, int port) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        ProcessBuilder builder = new ProcessBuilder(java, "--enable-preview", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), FirstConnection.class.getName(),
                implementation, String.valueOf(port)).redirectErrorStream(true);
        long start = System.nanoTime();
        Process child = builder.start();
        byte[] output = child.getInputStream().readAllBytes();
        if (!child.waitFor(60, TimeUnit.SECONDS)) {
            child.destroyForcibly();
            throw new IOException(implementation + ": the child JVM did not exit within 60 s");
        }
        double wall = (System.nanoTime() - start) / 1e6;
        String text = new String(output, StandardCharsets.UTF_8).trim();
        if (child.exitValue() != 0) {
            throw new IOException(implementation + ": the child JVM exited with " + child.exitValue() + ":\n" + text);
        }
        try {
            return new double[]{wall, Double.parseDouble(text)};
        } catch (NumberFormatException e) {
            throw new IOException(implementation + ": the child JVM printed more than its time:\n" + text, e);
        }
    }

    /** One echo of one byte per connection, then read to EOF and close: a virtual thread each. */
    private static void serve(ServerSocketChannel listener) {
        try {
            while (true) {
                SocketChannel channel = listener.accept();
                Thread.ofVirtual().start(() -> {
                    try (channel) {
                        ByteBuffer buffer = ByteBuffer.allocate(64);
                        if (channel.read(buffer) > 0) {
                            buffer.flip();
                            channel.write(buffer);
                            buffer.clear();
                            while (channel.read(buffer) >= 0) {
                                buffer.clear();
                            }
                        }
                    } catch (IOException e) {
                        System.err.println("first-connection listener: " + e);
                    }
                });
            }
        } catch (IOException closed) {
            // the harness closed the listener: done
        }
    }

    private static String line(String benchmark, String variant, int runs, double... values) {
        return String.join("\t", "harness", benchmark, variant, "runs=" + runs, "ms",
                Arrays.stream(values).mapToObj(v -> String.format(Locale.ROOT, "%.2f", v)).collect(Collectors.joining(" "))) + "\n";
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
