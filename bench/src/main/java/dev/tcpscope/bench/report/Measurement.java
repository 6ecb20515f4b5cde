package dev.tcpscope.bench.report;

import java.util.Map;

/**
 * One measured number: a JMH result or a line of the harnesses outside JMH (C, memory).
 *
 * @param benchmark e.g. {@code PingPong}, {@code EchoThroughput}, {@code pingpong} (C)
 * @param variant   e.g. {@code tcpscopeVirtual}, {@code c-blocking}
 * @param params    JMH parameters ({@code bytes=64}, {@code server=tcpscope}...)
 * @param score     the mean
 * @param error     half-width of the 99.9% confidence interval, NaN when unknown (one sample)
 * @param unit      e.g. {@code us/op}, {@code ops/s}
 */
public record Measurement(String benchmark, String variant, Map<String, String> params, double score, double error,
                          String unit) {

    /** {@return whether a smaller score is better (a time, kernel sleeps or bytes per operation)} */
    public boolean lowerIsBetter() {
        return unit.endsWith("/op") || unit.equals("sleeps/rt") || unit.equals("ms") || unit.equals("bytes/conn")
                || unit.equals("cpu s/GiB");
    }

    public String param(String name) {
        return params.getOrDefault(name, "");
    }

    /** {@return how many times better this is than {@code baseline}: above 1 is better} */
    public Ratio against(Measurement baseline) {
        double value = lowerIsBetter() ? baseline.score / score : score / baseline.score;
        double relative = Math.sqrt(square(error / score) + square(baseline.error / baseline.score));
        return new Ratio(value, value * relative);
    }

    /** {@return this score divided by {@code other}'s, with its error} */
    public Ratio over(Measurement other) {
        double value = score / other.score;
        double relative = Math.sqrt(square(error / score) + square(other.error / other.score));
        return new Ratio(value, value * relative);
    }

    private static double square(double x) {
        return x * x;
    }

    /** A ratio and its propagated error (NaN when an input's error is unknown). */
    public record Ratio(double value, double error) {
        public String format() {
            return Double.isNaN(error) ? String.format("%.2f×", value) : String.format("%.2f× ± %.2f", value, error);
        }
    }
}
