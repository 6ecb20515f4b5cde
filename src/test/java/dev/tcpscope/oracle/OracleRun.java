package dev.tcpscope.oracle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.LongFunction;

/**
 * A run of the ending oracle: scenarios generated from one seed, each run and judged, counted in
 * an {@link OutcomeTable}. Settings come from system properties:
 * <ul>
 *   <li>{@code oracle.scenarios}: how many (default: the short run's count);</li>
 *   <li>{@code oracle.seed}: the run's seed, hex (default: a fixed seed for the short run, a random
 *       one when {@code oracle.scenarios} is given);</li>
 *   <li>{@code oracle.budget}: seconds after which no new scenario starts (default: the short
 *       run's budget; none when {@code oracle.scenarios} is given);</li>
 *   <li>{@code oracle.replay}: a scenario's seed, hex: run only that scenario,
 *       {@code oracle.repeat} times (default 1);</li>
 *   <li>{@code oracle.only}: run only scenarios whose description contains each of these
 *       comma-separated texts (e.g. {@code reader+writer,RESETS_FIRST});</li>
 *   <li>{@code oracle.knownHoles}: {@code fail} to count known holes as mismatches
 *       ({@link KnownHoles});</li>
 *   <li>{@code oracle.verbose}: {@code true} to print every scenario's views, not only mismatches.</li>
 * </ul>
 * The report is printed and written to {@code target/oracle-report.txt}.
 */
final class OracleRun {

    /** The short run (the test suite's): a fixed seed, so that it runs the same scenarios every time. */
    static final long SHORT_RUN_SEED = 0x7C5C0FEL;
    static final int SHORT_RUN_SCENARIOS = 900;
    static final Duration SHORT_RUN_BUDGET = Duration.ofSeconds(40);
    static final Path REPORT = Path.of("target", "oracle-report.txt");
    /** {@code -Doracle.verbose=true}: print every scenario's three views, not only mismatches. */
    private static final boolean VERBOSE = Boolean.getBoolean("oracle.verbose");

    /** What the run did. */
    record Result(int ran, int mismatches, String report) {}

    private OracleRun() {}

    /** {@return the command that replays the scenario of {@code seed}} */
    static String replayCommand(long seed) {
        return "./tcpscope oracle --replay " + Long.toHexString(seed) + "   (or: ./mvnw test -Dtest=EndingOracleTest"
                + " -Doracle.replay=" + Long.toHexString(seed) + ")";
    }

    /** Runs as the system properties say (see the class comment). */
    static Result fromProperties() throws IOException {
        String replay = System.getProperty("oracle.replay");
        String only = System.getProperty("oracle.only");
        if (replay != null) {
            long seed = Long.parseUnsignedLong(replay.replaceFirst("^0x", ""), 16);
            int repeat = Integer.getInteger("oracle.repeat", 1);
            return run("replay of scenario " + Long.toHexString(seed) + " x" + repeat, repeat, null, i -> seed);
        }
        String scenarios = System.getProperty("oracle.scenarios");
        String seedProperty = System.getProperty("oracle.seed");
        long runSeed = seedProperty != null ? Long.parseUnsignedLong(seedProperty.replaceFirst("^0x", ""), 16)
                : scenarios != null ? System.nanoTime() ^ System.currentTimeMillis() << 20 : SHORT_RUN_SEED;
        int count = scenarios != null ? Integer.parseInt(scenarios) : SHORT_RUN_SCENARIOS;
        String budgetProperty = System.getProperty("oracle.budget");
        Duration budget = budgetProperty != null ? Duration.ofSeconds(Long.parseLong(budgetProperty))
                : scenarios != null ? null : SHORT_RUN_BUDGET;
        LongFunction<Long> seeds = i -> ScenarioGenerator.seedOf(runSeed, (int) i);
        if (only != null) {
            // The next seed, in order, whose scenario matches; the index space is large enough.
            long[] cursor = {0};
            seeds = i -> {
                for (int tries = 0; tries < 100_000; tries++) {
                    long seed = ScenarioGenerator.seedOf(runSeed, (int) cursor[0]++);
                    String d = ScenarioGenerator.generate(seed).describe();
                    if (java.util.Arrays.stream(only.split(",")).allMatch(d::contains)) {
                        return seed;
                    }
                }
                throw new IllegalArgumentException("no scenario matches oracle.only=" + only);
            };
        }
        return run("run seed " + Long.toHexString(runSeed) + ", " + count + " scenarios"
                + (only != null ? " matching \"" + only + "\"" : "")
                + (budget != null ? ", budget " + budget.toSeconds() + " s" : ""), count, budget, seeds);
    }

    private static Result run(String title, int count, Duration budget, LongFunction<Long> seeds) throws IOException {
        List<Object> quiet = quietLogs();
        OutcomeTable table = new OutcomeTable();
        long start = System.nanoTime();
        String stoppedEarly = "";
        System.out.println("ending oracle: " + title + "; known holes " + (KnownHoles.tolerated() ? "tolerated" : "fail"));
        try (ScenarioRunner runner = ScenarioRunner.start()) {
            for (int i = 0; i < count; i++) {
                if (budget != null && System.nanoTime() - start > budget.toNanos()) {
                    stoppedEarly = " (the time budget ended the run after " + i + " of " + count + ")";
                    break;
                }
                Scenario s = ScenarioGenerator.generate(seeds.apply(i));
                Observation o = runner.run(s);
                Verdict v = Oracle.check(o);
                table.add(o, v);
                if (v.isMismatch()) {
                    System.out.println("MISMATCH in scenario " + i + ": " + OutcomeTable.describe(o, v));
                } else if (VERBOSE) {
                    System.out.println(v.outcome() + " in scenario " + i + ": " + OutcomeTable.describe(o, v));
                }
                if ((i + 1) % 250 == 0) {
                    System.out.println("  " + (i + 1) + " scenarios, " + table.mismatches() + " mismatch(es), "
                            + seconds(start) + " s");
                }
            }
        } finally {
            quiet.forEach(l -> setLevel(l, null));
        }
        String report = "ending oracle: " + title + stoppedEarly + "\n" + table.total() + " scenarios in "
                + seconds(start) + " s; known holes " + (KnownHoles.tolerated() ? "tolerated (KnownHoles)" : "fail")
                + "\n\n" + table.render();
        System.out.println(report);
        Files.createDirectories(REPORT.getParent());
        Files.writeString(REPORT, report);
        return new Result(table.total(), table.mismatches(), report);
    }

    private static long seconds(long start) {
        return (System.nanoTime() - start) / 1_000_000_000L;
    }

    /**
     * The server logs every handler failure and the relay every failed session: thousands of stack
     * traces a run provokes on purpose. Their java.util.logging loggers are turned off for the run
     * (kept referenced meanwhile). Through reflection: the tests are patched into the module
     * dev.tcpscope, which does not read java.logging.
     */
    private static List<Object> quietLogs() {
        List<Object> loggers = new java.util.ArrayList<>();
        for (String name : List.of("dev.tcpscope.TcpServer", "dev.tcpscope.examples.Relay")) {
            try {
                Object logger = Class.forName("java.util.logging.Logger").getMethod("getLogger", String.class)
                        .invoke(null, name);
                setLevel(logger, "OFF");
                loggers.add(logger);
            } catch (ReflectiveOperationException | RuntimeException e) {
                System.out.println("(could not quiet the log of " + name + ": " + e + ")");
            }
        }
        return loggers;
    }

    private static void setLevel(Object logger, String level) {
        try {
            Class<?> levels = Class.forName("java.util.logging.Level");
            logger.getClass().getMethod("setLevel", levels).invoke(logger,
                    level == null ? null : levels.getField(level).get(null));
        } catch (ReflectiveOperationException | RuntimeException e) {
            System.out.println("(could not set a log level: " + e + ")");
        }
    }
}
