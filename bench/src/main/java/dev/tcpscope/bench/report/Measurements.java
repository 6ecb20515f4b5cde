package dev.tcpscope.bench.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/** Reads JMH's CSV results and the harnesses' tab-separated lines, and finds measurements in them. */
public final class Measurements {

    /** Two-sided 99.9% Student t quantiles by degrees of freedom, as JMH uses for its error. */
    private static final double[] T_999 = {Double.NaN, 636.619, 31.599, 12.924, 8.610, 6.869, 5.959, 5.408, 5.041,
            4.781, 4.587, 4.437, 4.318, 4.221, 4.140, 4.073, 4.015, 3.965, 3.922, 3.883, 3.850};

    private final List<Measurement> all = new ArrayList<>();

    public List<Measurement> all() {
        return all;
    }

    /** Adds JMH's {@code -rf csv} output. */
    public Measurements readJmhCsv(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        if (lines.isEmpty()) {
            return this;
        }
        List<String> header = splitCsv(lines.getFirst());
        for (String line : lines.subList(1, lines.size())) {
            List<String> fields = splitCsv(line);
            String name = fields.get(0);                        // dev.tcpscope.bench.Class.method[:secondary]
            String[] parts = name.substring("dev.tcpscope.bench.".length()).split("\\.", 2);
            Map<String, String> params = new LinkedHashMap<>();
            for (int i = 7; i < header.size() && i < fields.size(); i++) {
                if (!fields.get(i).isEmpty()) {
                    params.put(header.get(i).replace("Param: ", ""), fields.get(i));
                }
            }
            all.add(new Measurement(parts[0], parts[1], params, Double.parseDouble(fields.get(4)),
                    Double.parseDouble(fields.get(5)), fields.get(6)));
        }
        return this;
    }

    /**
     * Adds lines {@code source \t benchmark \t variant \t k=v \t unit \t sample sample ...}; the
     * samples of lines that agree on everything but their samples are pooled (the kernel sleeps of
     * the JMH ping-pong come one line per iteration and fork).
     */
    public Measurements readSamples(Path tsv) throws IOException {
        if (!Files.exists(tsv)) {
            return this;
        }
        Map<String, List<Double>> pooled = new LinkedHashMap<>();
        for (String line : Files.readAllLines(tsv)) {
            if (line.isBlank()) {
                continue;
            }
            int last = line.lastIndexOf('\t');
            List<Double> samples = pooled.computeIfAbsent(line.substring(0, last), key -> new ArrayList<>());
            Arrays.stream(line.substring(last + 1).trim().split(" +")).map(Double::parseDouble).forEach(samples::add);
        }
        for (var entry : pooled.entrySet()) {
            String[] f = entry.getKey().split("\t");
            Map<String, String> params = new LinkedHashMap<>();
            if (f[3].contains("=")) {
                String[] kv = f[3].split("=", 2);
                params.put(kv[0], kv[1]);
            }
            double[] samples = entry.getValue().stream().mapToDouble(Double::doubleValue).toArray();
            all.add(new Measurement(f[1], f[2], params, mean(samples), error(samples), f[4]));
        }
        return this;
    }

    public Optional<Measurement> find(String benchmark, String variant, Predicate<Measurement> filter) {
        return all.stream().filter(m -> m.benchmark().equals(benchmark) && m.variant().equals(variant))
                .filter(filter).findFirst();
    }

    public Optional<Measurement> find(String benchmark, String variant) {
        return find(benchmark, variant, m -> true);
    }

    static double mean(double[] samples) {
        return Arrays.stream(samples).average().orElse(Double.NaN);
    }

    /** Half-width of the 99.9% confidence interval of the mean, NaN for one sample. */
    static double error(double[] samples) {
        int n = samples.length;
        if (n < 2) {
            return Double.NaN;
        }
        double mean = mean(samples);
        double variance = Arrays.stream(samples).map(x -> (x - mean) * (x - mean)).sum() / (n - 1);
        double t = n - 1 < T_999.length ? T_999[n - 1] : 3.291;
        return t * Math.sqrt(variance / n);
    }

    private static List<String> splitCsv(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                fields.add(field.toString());
                field.setLength(0);
            } else {
                field.append(c);
            }
        }
        fields.add(field.toString());
        return fields;
    }
}
