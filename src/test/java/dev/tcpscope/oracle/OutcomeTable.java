package dev.tcpscope.oracle;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The run's report: how many scenarios of each kind ended with each outcome, as a table (by
 * ending path, by peer behaviour, then by connection: plain TCP, TLS 1.2, TLS 1.3), followed by every mismatch and every known-hole hit with
 * the command that replays it.
 */
final class OutcomeTable {

    /** Outcomes in the order of the columns; every run prints all of them, so runs compare. */
    static final List<String> OUTCOMES = List.of("FIN", "RST:failure", "RST:undelivered", "peer-reset",
            "reset-after-FIN", "exempt-a", "exempt-b", "known-hole-1", "known-hole-2", "known-hole-3", "known-hole-4",
            Verdict.MISMATCH);
    private static final int LISTED_PER_HOLE = 10;

    private final Map<EndingPath, Map<String, Integer>> byPath = new EnumMap<>(EndingPath.class);
    private final Map<PeerBehaviour, Map<String, Integer>> byBehaviour = new EnumMap<>(PeerBehaviour.class);
    private final Map<String, Map<String, Integer>> byConnection = new java.util.TreeMap<>(); // tcp, tls1.2, tls1.3
    private final List<String> mismatches = new ArrayList<>();
    private final Map<Integer, List<String>> holes = new LinkedHashMap<>();
    private final Map<Integer, Integer> holeCounts = new LinkedHashMap<>();
    private int total;

    /** Counts one scenario's verdict. */
    void add(Observation o, Verdict v) {
        Scenario s = o.scenario();
        total++;
        byPath.computeIfAbsent(s.path(), k -> new LinkedHashMap<>()).merge(v.outcome(), 1, Integer::sum);
        byBehaviour.computeIfAbsent(s.behaviour(), k -> new LinkedHashMap<>()).merge(v.outcome(), 1, Integer::sum);
        byConnection.computeIfAbsent(s.tls() ? "tls" + s.tlsVersion() : "tcp", k -> new LinkedHashMap<>())
                .merge(v.outcome(), 1, Integer::sum);
        if (v.isMismatch()) {
            mismatches.add(describe(o, v));
        } else if (v.hole() > 0) {
            holeCounts.merge(v.hole(), 1, Integer::sum);
            List<String> listed = holes.computeIfAbsent(v.hole(), k -> new ArrayList<>());
            if (listed.size() < LISTED_PER_HOLE) {
                listed.add(describe(o, v));
            }
        }
    }

    int total() {
        return total;
    }

    int mismatches() {
        return mismatches.size();
    }

    /** {@return the number of scenarios attributed to each known hole} */
    Map<Integer, Integer> holeCounts() {
        return holeCounts;
    }

    /** {@return how to report one scenario: what it was, what each view said, what broke, how to replay it} */
    static String describe(Observation o, Verdict v) {
        return o + "\n    broken: " + String.join("\n            ", v.violations())
                + (v.hole() > 0 ? "\n    explained by known hole " + v.hole() + " (KnownHoles)" : "")
                + "\n    replay: " + OracleRun.replayCommand(o.scenario().seed());
    }

    /** {@return the tables, then the mismatches and known holes} */
    String render() {
        StringBuilder b = new StringBuilder();
        b.append(table("ending path", byPath, Enum::name));
        b.append('\n').append(table("peer behaviour", byBehaviour, Enum::name));
        b.append('\n').append(table("connection", byConnection, k -> k));
        b.append('\n').append(mismatches.size()).append(" mismatch(es)").append(mismatches.isEmpty() ? "\n" : ":\n");
        mismatches.forEach(m -> b.append("  ").append(m).append("\n"));
        holeCounts.forEach((hole, count) -> {
            b.append("known hole ").append(hole).append(": ").append(count).append(" scenario(s)")
                    .append(count > LISTED_PER_HOLE ? ", the first " + LISTED_PER_HOLE : "").append(":\n");
            holes.get(hole).forEach(h -> b.append("  ").append(h).append("\n"));
        });
        return b.toString();
    }

    private <K> String table(String title, Map<K, Map<String, Integer>> rows, Function<K, String> name) {
        int first = Math.max(title.length(), rows.keySet().stream().mapToInt(k -> name.apply(k).length()).max().orElse(0));
        StringBuilder b = new StringBuilder(pad(title, first));
        for (String outcome : OUTCOMES) {
            b.append(" | ").append(outcome);
        }
        b.append(" | total\n").append("-".repeat(first));
        for (String outcome : OUTCOMES) {
            b.append("-+-").append("-".repeat(outcome.length()));
        }
        b.append("-+------\n");
        Map<String, Integer> sums = new LinkedHashMap<>();
        rows.forEach((key, counts) -> {
            b.append(pad(name.apply(key), first));
            int rowTotal = 0;
            for (String outcome : OUTCOMES) {
                int n = counts.getOrDefault(outcome, 0);
                rowTotal += n;
                sums.merge(outcome, n, Integer::sum);
                b.append(" | ").append(padLeft(n == 0 ? "." : Integer.toString(n), outcome.length()));
            }
            b.append(" | ").append(rowTotal).append('\n');
        });
        b.append(pad("all", first));
        for (String outcome : OUTCOMES) {
            b.append(" | ").append(padLeft(Integer.toString(sums.getOrDefault(outcome, 0)), outcome.length()));
        }
        return b.append(" | ").append(total).append('\n').toString();
    }

    private static String pad(String s, int width) {
        return s + " ".repeat(Math.max(0, width - s.length()));
    }

    private static String padLeft(String s, int width) {
        return " ".repeat(Math.max(0, width - s.length())) + s;
    }
}
