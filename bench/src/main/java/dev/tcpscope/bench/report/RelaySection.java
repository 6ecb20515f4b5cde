package dev.tcpscope.bench.report;

import java.util.Optional;

/**
 * Section 4b of the report (issue 15): a relay's throughput and CPU per GiB relayed, tcpscope's
 * splice pump ({@code TcpConnection.transferTo}) against the relay example's former copy loop and
 * a JDK-channel relay, from {@code RelayThroughput} (MiB/s, JMH) and {@code RelayCpu} (CPU s/GiB,
 * the samples file).
 */
final class RelaySection {

    private final ReportPage page;

    RelaySection(ReportPage page) {
        this.page = page;
    }

    void write() {
        page.append("## 4b. Relay, client → relay → upstream, 8 MiB rounds (MiB/s higher is better; CPU s per GiB relayed lower is better)\n\n");
        page.append("Client, relay and upstream in one JVM; CPU is the whole process's (every thread, both hops), "
                + "per GiB relayed. The ratio of one run is what matters: the machine is shared.\n\n");
        page.append("| relay | MiB/s | × vs JDK relay | × vs copy loop |\n|---|---|---|---|\n");
        Optional<Measurement> jdk = rate("jdk"), loop = rate("copyLoop");
        String group = "relay throughput";
        page.row(group, "JDK SocketChannel relay, 64 KiB direct buffer (baseline)", jdk, jdk, loop, null);
        page.row(group, "tcpscope, copy loop (16 KiB byte[], the example before transferTo)", loop, jdk, loop,
                ReportPage.TCPSCOPE);
        page.row(group, "tcpscope transferTo (splice on native)", rate("splice"), jdk, loop, ReportPage.TCPSCOPE);
        page.append("\n| relay | CPU s/GiB | × vs JDK relay (fewer is better) | × of copy loop's |\n|---|---|---|---|\n");
        Optional<Measurement> jdkCpu = cpu("jdk"), loopCpu = cpu("copyLoop");
        String cpuGroup = "relay CPU per GiB (fewer is better)";
        page.row(cpuGroup, "JDK SocketChannel relay (baseline)", jdkCpu, jdkCpu, loopCpu, null);
        page.row(cpuGroup, "tcpscope, copy loop", loopCpu, jdkCpu, loopCpu, ReportPage.TCPSCOPE);
        page.row(cpuGroup, "tcpscope transferTo (splice on native)", cpu("splice"), jdkCpu, loopCpu, ReportPage.TCPSCOPE);
        page.append("\n");
    }

    private Optional<Measurement> rate(String relay) {
        return page.data.find("RelayThroughput", "relay", m -> m.param("relay").equals(relay));
    }

    private Optional<Measurement> cpu(String relay) {
        return page.data.find("RelayThroughput", "relay:cpu", m -> m.param("relay").equals(relay));
    }
}
