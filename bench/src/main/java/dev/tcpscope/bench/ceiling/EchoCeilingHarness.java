package dev.tcpscope.bench.ceiling;

import dev.tcpscope.bench.peers.NettyTransport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark 2b (outside JMH): the echo benchmark with the load client in C ({@code bench/c/echoload.c})
 * and each server alone in a child JVM ({@link EchoServerProcess}), so that the server's CPU use is
 * measured apart from the client's and the client is not a Java selector thread sharing the
 * server's JVM. For each server one child is started and driven at each connection count in
 * turn; the C client prints its samples (messages/s, the server's CPU seconds per second and
 * microseconds per message, its own CPU and the rest of the machine's), which are appended to
 * OUT_FILE. The Netty io_uring server is left out where io_uring is not available. With
 * {@code java} instead of the C client's path, the client is the JMH benchmark's own
 * ({@link JavaEchoLoadProcess}, THREADS ignored): the two clients' CPU per message compared by hand.
 *
 * <pre>java -cp benchmarks.jar dev.tcpscope.bench.ceiling.EchoCeilingHarness ECHOLOAD|java CONNECTIONS,... THREADS WARMUP_S ITERATIONS SECONDS OUT_FILE</pre>
 */
public final class EchoCeilingHarness {

    static final int MESSAGE_SIZE = 1024;

    private EchoCeilingHarness() {}

    public static void main(String[] args) throws Exception {
        String echoload = args[0];
        List<String> connections = List.of(args[1].split(","));
        String threads = args[2], warmup = args[3], iterations = args[4], seconds = args[5];
        Path out = Path.of(args[6]);
        List<String> servers = new ArrayList<>(List.of("tcpscope", "jdk-virtual", "netty-epoll", "netty-io_uring"));
        NettyTransport.IO_URING.unavailability().ifPresent(why -> {
            servers.remove("netty-io_uring");
            System.out.println("netty-io_uring left out: " + why);
        });
        for (String server : servers) {
            Process child = startServer(server);
            try (BufferedReader replies = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line = replies.readLine();
                if (line == null || !line.startsWith("port ")) {
                    throw new IOException("the " + server + " server process said " + line + ", expected 'port N'");
                }
                String port = line.substring("port ".length()).trim();
                for (String n : connections) {
                    String pid = String.valueOf(child.pid());
                    String samples = runClient(echoload.equals("java")
                            ? javaClient(port, pid, server + "/java-client", n, warmup, iterations, seconds)
                            : List.of(echoload, port, pid, server, n, threads, String.valueOf(MESSAGE_SIZE), warmup,
                                    iterations, seconds));
                    Files.writeString(out, samples, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                    System.out.print(summary(samples));
                }
            } finally {
                child.getOutputStream().close();
                if (!child.waitFor(10, TimeUnit.SECONDS)) {
                    child.destroyForcibly();
                }
            }
        }
    }

    private static Process startServer(String server) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        return new ProcessBuilder(java, "--enable-preview", "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"),
                EchoServerProcess.class.getName(), server)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
    }

    /** The Java load client of the JMH benchmark in a JVM of its own ({@link JavaEchoLoadProcess}). */
    private static List<String> javaClient(String port, String pid, String label, String connections, String warmup,
                                           String iterations, String seconds) {
        String java = ProcessHandle.current().info().command().orElseThrow();
        return List.of(java, "-cp", System.getProperty("java.class.path"), JavaEchoLoadProcess.class.getName(), port,
                pid, label, connections, warmup, iterations, seconds);
    }

    private static String runClient(List<String> command) throws IOException, InterruptedException {
        Process client = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String samples = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (client.waitFor() != 0) {
            throw new IOException("the C load client failed: " + String.join(" ", command));
        }
        return samples;
    }

    /** One line per client run: server, connections, and the means of its samples. */
    private static String summary(String samples) {
        StringBuilder line = new StringBuilder();
        for (String sample : samples.split("\n")) {
            String[] f = sample.split("\t");
            if (f.length < 6) {
                continue;
            }
            double mean = Arrays.stream(f[5].trim().split(" +")).mapToDouble(Double::parseDouble).average().orElse(Double.NaN);
            if (line.isEmpty()) {
                line.append(String.format("%-15s %-17s", f[2], f[3]));
            }
            line.append(String.format("  %s %.2f %s", f[2].contains(":") ? f[2].substring(f[2].indexOf(':') + 1) : "rate",
                    mean, f[4]));
        }
        return line.append('\n').toString();
    }
}
