package dev.tcpscope.bench;

import dev.tcpscope.bench.sleeps.ContextSwitches;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Kernel sleeps per round trip of a ping-pong: the voluntary context switches of the whole
 * benchmark JVM ({@link ContextSwitches#voluntary()}: client, server, event loops, pollers,
 * carriers, GC and JIT threads alike) during one iteration, divided by the round trips of that
 * iteration. The benchmark method adds each round trip it makes to {@link #roundTrips}.
 *
 * <p>Both counts cover the same span, from this state's iteration setup to its iteration teardown
 * (JMH's untimed synchronisation calls to the benchmark method before and after the timed part
 * included: they are counted as round trips too). The rest of that span is JMH's own bookkeeping,
 * a handful of switches per iteration against thousands of round trips.
 *
 * <p>JMH 1.37 has no secondary results in sample mode ({@code @AuxCounters} are generated for
 * throughput and average-time modes only), so each measurement iteration's figure is appended to
 * the file named by the environment variable {@value #SAMPLES_VARIABLE} (bench/run sets it to its
 * samples file, which the report reads; forks inherit the environment) as a line
 * {@code jmh \t CLASS \t VARIANT:sleeps \t bytes=N \t sleeps/rt \t FIGURE} (CLASS the benchmark's
 * class: {@code PingPong}, {@code TlsPingPong}), and printed (JMH's log shows it under the iteration).
 */
@State(Scope.Thread)
public class KernelSleeps {

    /** The environment variable naming the samples file; unset, the figures are only printed. */
    public static final String SAMPLES_VARIABLE = "TCPSCOPE_BENCH_SAMPLES";

    /** Round trips made during the iteration; the benchmark method adds its own. */
    public long roundTrips;

    private long before;

    /** Starts an iteration's count. */
    @Setup(Level.Iteration)
    public void start() {
        roundTrips = 0;
        before = ContextSwitches.voluntary();
    }

    /** Ends an iteration's count and, for a measurement iteration, reports its figure. */
    @TearDown(Level.Iteration)
    public void stop(BenchmarkParams benchmark, IterationParams iteration) throws IOException {
        long sleeps = ContextSwitches.voluntary() - before;
        if (iteration.getType() != IterationType.MEASUREMENT || roundTrips == 0) {
            return;
        }
        double perRoundTrip = (double) sleeps / roundTrips;
        String name = benchmark.getBenchmark();                 // dev.tcpscope.bench.CLASS.VARIANT
        String variant = name.substring(name.lastIndexOf('.') + 1);
        String owner = name.substring(0, name.lastIndexOf('.'));
        String benchmarkClass = owner.substring(owner.lastIndexOf('.') + 1);
        System.out.printf("kernel sleeps per round trip: %.3f (%d voluntary context switches, %d round trips)%n",
                perRoundTrip, sleeps, roundTrips);
        String file = System.getenv(SAMPLES_VARIABLE);
        if (file != null && !file.isEmpty()) {
            String line = String.join("\t", "jmh", benchmarkClass, variant + ":sleeps", "bytes=" + benchmark.getParam("bytes"),
                    "sleeps/rt", String.format(java.util.Locale.ROOT, "%.4f", perRoundTrip)) + "\n";
            Files.writeString(Path.of(file), line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }
}
