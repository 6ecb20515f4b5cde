package dev.tcpscope.bench.report;

import java.util.Locale;
import java.util.Optional;

/**
 * Section 7 of the report: the first connection in a fresh JVM — the wall time of a whole Java
 * process that connects once and exchanges a byte, tcpscope against the JDK
 * ({@code firstconnection.FirstConnectionHarness}).
 */
final class FirstConnectionSection {

    private final ReportPage page;

    FirstConnectionSection(ReportPage page) {
        this.page = page;
    }

    void write() {
        page.append("## 7. First connection in a fresh JVM (ms per process, lower is better)\n\n");
        Optional<Measurement> tcpscope = page.data.find("first-connection", "tcpscope:p0.50"),
                jdk = page.data.find("first-connection", "jdk:p0.50");
        if (tcpscope.isEmpty() || jdk.isEmpty()) {
            page.append("Not measured in this run.\n\n");
            return;
        }
        page.append("A child JVM per run (`java --enable-preview --enable-native-access=ALL-UNNAMED -cp benchmarks.jar`, ")
                .append("the same for both) connects to the harness's loopback listener, sends one byte, reads its echo, ")
                .append("ends gracefully (tcpscope `finish()`; the JDK shutdownOutput, read to EOF, close) and exits. ")
                .append("Timed from process start to exit by the harness; \"inside main\" is the child's own clock from ")
                .append("`main` to the end of the exchange. ").append(tcpscope.get().param("runs"))
                .append(" runs of each, alternating, after one uncounted warm-up of each.\n\n");
        page.append("| program | median ms (process) | mean ms (process) | median ms inside main |\n|---|---|---|---|\n");
        row("JDK SocketChannel (baseline)", "jdk");
        row("tcpscope TcpConnection", "tcpscope");
        page.append(String.format(Locale.ROOT, "%nDifference of the medians: tcpscope %+.1f ms (process), %+.1f ms inside main.%n%n",
                tcpscope.get().score() - jdk.get().score(),
                median("first-connection-main", "tcpscope") - median("first-connection-main", "jdk")));
    }

    private void row(String label, String variant) {
        Optional<Measurement> mean = page.data.find("first-connection", variant);
        page.append("| ").append(label).append(" | ")
                .append(ReportPage.number(median("first-connection", variant), Double.NaN)).append(" | ")
                .append(mean.map(m -> ReportPage.number(m.score(), m.error())).orElse("")).append(" | ")
                .append(ReportPage.number(median("first-connection-main", variant), Double.NaN)).append(" |\n");
    }

    private double median(String benchmark, String variant) {
        return page.data.find(benchmark, variant + ":p0.50").map(Measurement::score).orElse(Double.NaN);
    }
}
