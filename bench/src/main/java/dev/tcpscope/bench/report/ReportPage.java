package dev.tcpscope.bench.report;

import java.util.Locale;
import java.util.Optional;

/**
 * The report being written: its Markdown, its chart, the run's measurements and profile, and
 * what every section shares — finding a measurement, formatting a number, writing a table row,
 * judging a target.
 */
final class ReportPage {

    static final String TCPSCOPE = "#1f77b4", NETTY = "#2ca02c", NETTY_IO_URING = "#98df8a", JDK = "#8c8c8c",
            C = "#ff7f0e";

    final Measurements data;
    final StringBuilder md = new StringBuilder();
    final SvgChart chart;
    final String profile;

    ReportPage(Measurements data, String profile) {
        this.data = data;
        this.profile = profile;
        this.chart = new SvgChart("tcpscope benchmarks (" + profile + "): times better than the JDK on virtual threads",
                "same run, 2 shared cores, loopback; right of 1× is better; whiskers: 99.9% CI where known");
    }

    ReportPage append(Object text) {
        md.append(text);
        return this;
    }

    // ------------------------------------------------------------------ finding measurements

    /**
     * A ping-pong measurement (JMH or C): {@code suffix} "" for the mean, {@code :p0.50} for the
     * median, {@code :p0.99}, {@code :sleeps} for the kernel sleeps per round trip.
     */
    Optional<Measurement> pingPong(String variant, String bytes, String suffix) {
        return data.find(variant.startsWith("c-") ? "pingpong" : "PingPong", variant + suffix,
                m -> m.param("bytes").equals(bytes));
    }

    /** Messages per second of the echo benchmark for {@code server} at {@code connections}. */
    Optional<Measurement> echo(String server, String connections) {
        return data.find("EchoThroughput", "round:messages",
                m -> m.param("server").equals(server) && m.param("connections").equals(connections));
    }

    static String size(String bytes) {
        return bytes.equals("64") ? "64 B" : "16 KiB";
    }

    // ------------------------------------------------------------------ formatting

    static String number(double score, double error) {
        String pattern = Math.abs(score) >= 1000 ? "%,.0f" : Math.abs(score) >= 10 ? "%.1f" : "%.2f";
        String s = String.format(Locale.ROOT, pattern, score);
        return Double.isNaN(error) ? s : s + " ± " + String.format(Locale.ROOT, pattern, error);
    }

    /**
     * One table row: score ± error, its ratio against {@code baseline} (as "times better"), and in
     * the last column its relation to {@code other}; adds a chart bar unless {@code colour} is null.
     */
    void row(String group, String label, Optional<Measurement> measured, Optional<Measurement> baseline,
             Optional<Measurement> other, String colour) {
        md.append("| ").append(label).append(" | ");
        if (measured.isEmpty()) {
            md.append("not measured | | |\n");
            return;
        }
        Measurement m = measured.get();
        md.append(number(m.score(), m.error())).append(" | ");
        if (baseline.isPresent()) {
            Measurement.Ratio r = m.against(baseline.get());
            md.append(baseline.get() == m ? "1 (baseline)" : r.format());
            if (colour != null && baseline.get() != m) {
                chart.add(new SvgChart.Bar(group, label, r.value(), r.error(), colour));
            }
        }
        md.append(" | ");
        if (other.isPresent() && other.get() != m) {
            Measurement.Ratio r = m.lowerIsBetter() ? m.over(other.get()) : m.against(other.get());
            md.append(r.format());
        }
        md.append(" |\n");
    }

    // ------------------------------------------------------------------ judging

    /** How a target's figure is made from the measured and the baseline measurement. */
    interface Figure {
        Measurement.Ratio of(Measurement measured, Measurement baseline);
    }

    /**
     * One row of a targets table: what is targeted, the figure this run measured ({@code figure}
     * of the two measurements) and its {@link #verdict} against {@code threshold} (parity 1).
     */
    void target(String what, Optional<Measurement> measured, Optional<Measurement> baseline, Figure figure,
                double threshold, boolean atMost) {
        if (measured.isEmpty() || baseline.isEmpty()) {
            md.append("| ").append(what).append(" | not measured in this run | — |\n");
            return;
        }
        Measurement.Ratio r = figure.of(measured.get(), baseline.get());
        md.append("| ").append(what).append(" | ").append(r.format()).append(" | ")
                .append(verdict(r.value(), r.error(), threshold, atMost, 1.0)).append(" |\n");
    }

    /**
     * Whether a measured figure meets a target, by the decision rule. With its 99.9%
     * interval [value − error, value + error] (just the value when the error is unknown):
     * "yes" when the whole interval meets the threshold; else "at parity" when the interval
     * contains {@code parity} (1 for a ratio, 0 for a difference) — at parity is not met; else
     * "within error, not met" when it contains the threshold; else "no". Smoke runs are not judged.
     */
    String verdict(double value, double error, double threshold, boolean atMost, double parity) {
        if (profile.equals("smoke")) {
            return "not judged (smoke)";
        }
        double e = Double.isFinite(error) ? error : 0;
        double low = value - e, high = value + e;
        if (atMost ? high <= threshold : low >= threshold) {
            return "yes";
        }
        if (e > 0 && low <= parity && parity <= high) {
            return "at parity";
        }
        if (e > 0 && low <= threshold && threshold <= high) {
            return "within error, not met";
        }
        return "**no**";
    }
}
