package dev.tcpscope.bench.report;

import java.util.Locale;
import java.util.Optional;

/**
 * Sections 5 and 6 of the report: what a connection costs besides its traffic — the control
 * calls through FFM, and the memory of an idle connection.
 */
final class CostSections {

    private final ReportPage page;

    CostSections(ReportPage page) {
        this.page = page;
    }

    void write() {
        controlCalls();
        memory();
    }

    private void controlCalls() {
        page.append("## 5. Control calls (ns per call, lower is better; platform thread)\n\n");
        page.append("| call | ns per call | × vs JDK equivalent | |\n|---|---|---|---|\n");
        String group = "control calls";
        Optional<Measurement> setLinger = cc("jdkSetLinger"), getNoDelay = cc("jdkGetNoDelay"), setNoDelay = cc("jdkSetNoDelay");
        Optional<Measurement> none = Optional.empty();
        page.row(group, "JDK setOption(SO_LINGER, 0)", setLinger, setLinger, none, null);
        page.row(group, "tcpscope FFM setsockopt(SO_LINGER {1,0})", cc("ffmSetLinger"), setLinger, none, ReportPage.TCPSCOPE);
        page.row(group, "JDK getOption(TCP_NODELAY)", getNoDelay, getNoDelay, none, null);
        page.row(group, "tcpscope FFM getsockopt(TCP_NODELAY)", cc("ffmGetNoDelay"), getNoDelay, none, ReportPage.TCPSCOPE);
        page.row(group, "tcpscope noDelay() (public API)", cc("apiNoDelay"), getNoDelay, none, ReportPage.TCPSCOPE);
        page.row(group, "JDK setOption(TCP_NODELAY, true)", setNoDelay, setNoDelay, none, null);
        page.row(group, "tcpscope noDelay(true) (public API)", cc("apiSetNoDelay"), setNoDelay, none, ReportPage.TCPSCOPE);
        page.row(group, "tcpscope FFM ioctl(SIOCOUTQ) (no JDK equivalent)", cc("ffmUnacknowledged"), none, none, null);
        page.append("\n");
    }

    private Optional<Measurement> cc(String variant) {
        return page.data.find("ControlCalls", variant);
    }

    private void memory() {
        page.append("## 6. Memory per idle connection (server process, measured outside JMH)\n\n");
        Optional<Measurement> rssT = page.data.find("memory", "tcpscope"), rssJ = page.data.find("memory", "jdk-virtual");
        Optional<Measurement> heapT = page.data.find("memory-heap", "tcpscope"), heapJ = page.data.find("memory-heap", "jdk-virtual");
        if (rssT.isEmpty() || rssJ.isEmpty()) {
            page.append("Not measured in this run.\n\n");
            return;
        }
        page.append("Echo server in a child JVM (-Xmx1g, G1, a direct 1 KiB echo buffer per connection in both servers); ")
                .append(rssT.get().param("connections")).append(" connections, each idle after one 64 B exchange, ")
                .append("opened after the same warm-up of short connections as the echo servers get (handlers parked in compiled frames); ")
                .append("full GC before each reading. Resident = VmRSS growth ÷ connections; live heap = heap in use after GC, growth ÷ connections.\n\n");
        page.append("| server | resident KiB per connection | live heap KiB per connection |\n|---|---|---|\n");
        page.append(String.format(Locale.ROOT, "| JDK, virtual thread per connection (baseline) | %.1f | %.1f |%n",
                rssJ.get().score() / 1024, heapJ.map(m -> m.score() / 1024).orElse(Double.NaN)));
        page.append(String.format(Locale.ROOT, "| tcpscope TcpServer | %.1f (%.2f× the JDK's) | %.1f (%.2f× the JDK's) |%n%n",
                rssT.get().score() / 1024, rssT.get().score() / rssJ.get().score(),
                heapT.map(m -> m.score() / 1024).orElse(Double.NaN),
                heapT.flatMap(t -> heapJ.map(j -> t.score() / j.score())).orElse(Double.NaN)));
        page.chart.add(new SvgChart.Bar("memory per idle connection", "tcpscope TcpServer, resident",
                rssJ.get().score() / rssT.get().score(), Double.NaN, ReportPage.TCPSCOPE));
    }
}
