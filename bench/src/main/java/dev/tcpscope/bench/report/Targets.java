package dev.tcpscope.bench.report;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The report's "Targets (issue 12)" table: each target of issue 12, the figure this run measured
 * for it and the verdict of {@link ReportPage#verdict} (a figure whose 99.9% interval contains
 * parity is "at parity", which is not met).
 */
final class Targets {

    /** How the verdicts are given (the issue 14 targets of {@link TlsSection} follow the same rule). */
    static final String VERDICTS = "Verdicts: \"yes\" when the whole 99.9% interval of the figure meets the target; "
            + "\"at parity\" when the interval contains 1 (0 for a difference) — at parity is not met; \"within error, "
            + "not met\" when it contains the target's threshold. Medians, p99 and memory have no interval "
            + "(JMH gives none for percentiles; the memory harness measures once): judged on the value alone.\n\n";

    private final ReportPage page;

    Targets(ReportPage page) {
        this.page = page;
    }

    void write() {
        page.append("## Targets (issue 12)\n\n");
        page.append(VERDICTS);
        page.append("| target | figure measured | met? |\n|---|---|---|\n");
        for (String n : List.of("100", "1000")) {
            ratio("echo, " + n + " connections: tcpscope's messages/s ÷ Netty epoll's ≥ 1.0",
                    page.echo("tcpscope", n), page.echo("netty-epoll", n), Measurement::against, 1.0, false);
            ratio("echo, " + n + " connections: tcpscope's messages/s ÷ JDK virtual threads' ≥ 1.2",
                    page.echo("tcpscope", n), page.echo("jdk-virtual", n), Measurement::against, 1.2, false);
        }
        for (String bytes : List.of("64", "16384")) {
            String size = ReportPage.size(bytes);
            Optional<Measurement> tcpscope = page.pingPong("tcpscopeVirtual", bytes, ":p0.50");
            ratio("ping-pong " + size + ": tcpscope's median round trip ÷ C's ≤ 1.1", tcpscope,
                    page.pingPong("c-blocking", bytes, ":p0.50"), Measurement::over, 1.1, true);
            ratio("ping-pong " + size + ": tcpscope's median round trip ÷ JDK virtual threads' ≤ 1.0", tcpscope,
                    page.pingPong("jdkVirtual", bytes, ":p0.50"), Measurement::over, 1.0, true);
            ratio("ping-pong " + size + ": tcpscope's kernel sleeps per round trip ÷ JDK virtual threads' ≤ 1.0",
                    page.pingPong("tcpscopeVirtual", bytes, ":sleeps"), page.pingPong("jdkVirtual", bytes, ":sleeps"),
                    Measurement::over, 1.0, true);
        }
        ratio("bulk transfer: tcpscope's MiB/s ÷ JDK virtual threads' ≥ 1.0", page.data.find("BulkTransfer", "tcpscopeVirtual"),
                page.data.find("BulkTransfer", "jdkVirtual"), Measurement::against, 1.0, false);
        firstConnection();
        // "No regression" targets: the issue found them at parity, so at parity (or better) is what they ask.
        ratio("lifecycle, no regression (at parity or better): tcpscope finish() ÷ JDK graceful, connections/s, server in the benchmark's JVM",
                page.data.find("ConnectionLifecycle", "tcpscopeFinish"), page.data.find("ConnectionLifecycle", "jdkGraceful"),
                Measurement::against, 1.0, false);
        ratio("lifecycle, no regression (at parity or better): tcpscope finish() ÷ JDK graceful, connections/s, server in its own JVM",
                page.data.find("ConnectionLifecycle", "tcpscopeFinishServerProcess"),
                page.data.find("ConnectionLifecycle", "jdkGracefulServerProcess"), Measurement::against, 1.0, false);
        ratio("lifecycle, no regression (at parity or better): tcpscope abort() ÷ JDK SO_LINGER 0 close, connections/s",
                page.data.find("ConnectionLifecycle", "tcpscopeAbort"), page.data.find("ConnectionLifecycle", "jdkLingerZero"),
                Measurement::against, 1.0, false);
        ratio("control calls, no regression (at parity or better): time per noDelay(true) ÷ the JDK's setOption",
                page.data.find("ControlCalls", "apiSetNoDelay"), page.data.find("ControlCalls", "jdkSetNoDelay"),
                Measurement::over, 1.0, true);
        ratio("control calls, no regression (at parity or better): time per noDelay() ÷ the JDK's getOption",
                page.data.find("ControlCalls", "apiNoDelay"), page.data.find("ControlCalls", "jdkGetNoDelay"),
                Measurement::over, 1.0, true);
        ratio("idle connection: tcpscope's resident memory ÷ the JDK's ≤ 1.0", page.data.find("memory", "tcpscope"),
                page.data.find("memory", "jdk-virtual"), Measurement::over, 1.0, true);
        ratio("idle connection: tcpscope's live heap ÷ the JDK's ≤ 1.0", page.data.find("memory-heap", "tcpscope"),
                page.data.find("memory-heap", "jdk-virtual"), Measurement::over, 1.0, true);
        page.append("\n");
    }

    private void ratio(String what, Optional<Measurement> measured, Optional<Measurement> baseline,
                       ReportPage.Figure figure, double threshold, boolean atMost) {
        page.target(what, measured, baseline, figure, threshold, atMost);
    }

    /**
     * First connection: the difference of the medians of the fresh JVMs' wall times; its
     * uncertainty is taken from the means' 99.9% intervals (medians have none).
     */
    private void firstConnection() {
        String what = "first connection in a fresh JVM: tcpscope's median process time − the JDK's ≤ 50 ms";
        Optional<Measurement> t = page.data.find("first-connection", "tcpscope:p0.50"),
                j = page.data.find("first-connection", "jdk:p0.50"),
                tMean = page.data.find("first-connection", "tcpscope"), jMean = page.data.find("first-connection", "jdk");
        if (t.isEmpty() || j.isEmpty() || tMean.isEmpty() || jMean.isEmpty()) {
            page.append("| ").append(what).append(" | not measured in this run | — |\n");
            return;
        }
        double difference = t.get().score() - j.get().score();
        double error = Math.hypot(tMean.get().error(), jMean.get().error());
        page.append("| ").append(what).append(" | ")
                .append(String.format(Locale.ROOT, "%+.1f ms", difference))
                .append(Double.isFinite(error) ? String.format(Locale.ROOT, " ± %.1f", error) : "")
                .append(" | ").append(page.verdict(difference, error, 50, true, 0)).append(" |\n");
    }
}
