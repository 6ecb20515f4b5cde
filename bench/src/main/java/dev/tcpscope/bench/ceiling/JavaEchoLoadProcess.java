package dev.tcpscope.bench.ceiling;

import dev.tcpscope.bench.peers.EchoLoadClient;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The JMH echo benchmark's Java load client ({@link EchoLoadClient}: one selector thread, rounds of
 * one message per connection) in a JVM of its own, against a server process: the same samples as
 * {@code bench/c/echoload.c} prints, so that the two clients' CPU per message can be compared on
 * the same server. Not part of bench/run; for measuring by hand:
 *
 * <pre>java -cp benchmarks.jar dev.tcpscope.bench.ceiling.JavaEchoLoadProcess PORT SERVER_PID LABEL CONNECTIONS WARMUP_S ITERATIONS SECONDS</pre>
 */
public final class JavaEchoLoadProcess {

    private JavaEchoLoadProcess() {}

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        long pid = Long.parseLong(args[1]);
        String label = args[2];
        int connections = Integer.parseInt(args[3]);
        double warmup = Double.parseDouble(args[4]);
        int iterations = Integer.parseInt(args[5]);
        double seconds = Double.parseDouble(args[6]);
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        double[] rate = new double[iterations], server = new double[iterations], perMessage = new double[iterations],
                client = new double[iterations], others = new double[iterations];
        try (EchoLoadClient load = EchoLoadClient.connect(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), port), connections, EchoCeilingHarness.MESSAGE_SIZE)) {
            long end = System.nanoTime() + (long) (warmup * 1e9);
            while (System.nanoTime() < end) {
                load.round();
            }
            for (int i = 0; i < iterations; i++) {
                long start = System.nanoTime(), clientStart = os.getProcessCpuTime();
                double serverStart = ticks(pid), busyStart = busy();
                long messages = 0;
                end = start + (long) (seconds * 1e9);
                long now;
                do {
                    messages += load.round();
                } while ((now = System.nanoTime()) < end);
                double elapsed = (now - start) / 1e9;
                double serverUsed = ticks(pid) - serverStart, clientUsed = (os.getProcessCpuTime() - clientStart) / 1e9;
                rate[i] = messages / elapsed;
                server[i] = serverUsed / elapsed;
                perMessage[i] = serverUsed / messages * 1e6;
                client[i] = clientUsed / elapsed;
                others[i] = (busy() - busyStart - serverUsed - clientUsed) / elapsed;
            }
        }
        print(label, "", connections, "msg/s", rate);
        print(label, ":server-cpu", connections, "cpu-s/s", server);
        print(label, ":server-us", connections, "us/msg", perMessage);
        print(label, ":client-cpu", connections, "cpu-s/s", client);
        print(label, ":others-cpu", connections, "cpu-s/s", others);
    }

    private static void print(String label, String suffix, int connections, String unit, double[] values) {
        StringBuilder line = new StringBuilder("java\techo-process\t" + label + suffix + "\tconnections=" + connections
                + "\t" + unit + "\t");
        for (int i = 0; i < values.length; i++) {
            line.append(i == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.4f", values[i]));
        }
        System.out.println(line);
    }

    /** utime + stime of process {@code pid} in seconds (clock ticks of 10 ms). */
    private static double ticks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    }

    /** Busy time of all cores (user, nice, system, irq, softirq) in seconds, from /proc/stat. */
    private static double busy() throws IOException {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).getFirst().trim().split(" +");
        return (Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]) + Long.parseLong(f[6])
                + Long.parseLong(f[7])) / 100.0;
    }
}
