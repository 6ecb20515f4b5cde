package dev.tcpscope.bench;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * CPU seconds per GiB relayed, per measurement iteration of {@link RelayThroughput}: the whole
 * JVM's CPU time ({@code OperatingSystemMXBean.getProcessCpuTime}, user and system, every thread:
 * client, relay, upstream, JIT, GC) over the iteration, divided by the GiB the benchmark method
 * counted in {@link #mib}. Reported as {@link KernelSleeps} reports its figure: printed, and
 * appended to the samples file ({@value KernelSleeps#SAMPLES_VARIABLE}) as
 * {@code jmh \t RelayThroughput \t VARIANT:cpu \t relay=KIND \t cpu s/GiB \t FIGURE}.
 */
@State(Scope.Thread)
public class RelayCpu {

    /** MiB relayed in this iteration; the benchmark method adds its own. */
    public long mib;

    private long before;

    @Setup(Level.Iteration)
    public void start() {
        mib = 0;
        before = cpuNanos();
    }

    @TearDown(Level.Iteration)
    public void stop(BenchmarkParams benchmark, IterationParams iteration) throws IOException {
        long cpu = cpuNanos() - before;
        if (iteration.getType() != IterationType.MEASUREMENT || mib == 0) {
            return;
        }
        double perGiB = cpu / 1e9 / (mib / 1024.0);
        String relay = benchmark.getParam("relay");
        System.out.printf(Locale.ROOT, "CPU per GiB relayed: %.3f s (%d ms CPU, %d MiB)%n", perGiB, cpu / 1_000_000, mib);
        String file = System.getenv(KernelSleeps.SAMPLES_VARIABLE);
        if (file != null && !file.isEmpty()) {
            String line = String.join("\t", "jmh", "RelayThroughput", "relay:cpu", "relay=" + relay, "cpu s/GiB",
                    String.format(Locale.ROOT, "%.4f", perGiB)) + "\n";
            Files.writeString(Path.of(file), line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }
}
