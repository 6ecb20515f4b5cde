package dev.tcpscope.bench.report;

import dev.tcpscope.bench.peers.NettyTransport;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Section 1 of the report: the ping-pong round trip of every peer — median, p99 and mean, the
 * kernel sleeps per round trip, and ratios of the medians against the JDK on virtual threads and
 * against C.
 */
final class PingPongSection {

    private record Peer(String variant, String label, String colour) {}

    private static final List<Peer> PEERS = List.of(
            new Peer("c-blocking", "C, blocking (physical limit)", ReportPage.C),
            new Peer("jdkPlatform", "JDK SocketChannel, platform threads", ReportPage.JDK),
            new Peer("jdkVirtual", "JDK SocketChannel, virtual threads (baseline)", null),
            new Peer("nettyEpoll", "Netty 4.2 native epoll", ReportPage.NETTY),
            new Peer("nettyIoUring", "Netty 4.2 native io_uring", ReportPage.NETTY_IO_URING),
            new Peer("tcpscopeVirtual", "tcpscope, virtual threads", ReportPage.TCPSCOPE));

    private final ReportPage page;

    PingPongSection(ReportPage page) {
        this.page = page;
    }

    void write() {
        page.append("## 1. Ping-pong round trip, one connection (µs per round trip, lower is better)\n\n");
        page.append("""
                Every round trip is timed (JMH sample mode; the C harness likewise). Ratios use the medians: \
                on this shared machine every implementation has a long tail (stalls of milliseconds), \
                virtual threads most, which p99 and the means show. JMH's percentiles pool every sample of \
                the run; C's are each iteration's, averaged. Netty's round trips run in batches of 100 in \
                its event loop and JMH times the batch: its median and p99 are of 100-round-trip averages, \
                which hide its tail.

                Kernel sleeps per round trip: voluntary context switches of the whole process \
                (getrusage ru_nvcsw: every thread — client, server, event loops, pollers, carriers, GC and \
                JIT) during each measurement iteration, divided by the round trips of that iteration; mean \
                of the iterations ± 99.9% interval. Every sleep is a thread blocking in the kernel and a \
                wake-up to pay for; hand-offs between threads (pollers, carriers, event loops) add to them.

                """);
        for (String bytes : List.of("64", "16384")) {
            table(bytes);
        }
        ioUringNote();
    }

    private void table(String bytes) {
        String size = ReportPage.size(bytes);
        Optional<Measurement> base = page.pingPong("jdkVirtual", bytes, ":p0.50"), c = page.pingPong("c-blocking", bytes, ":p0.50");
        Optional<Measurement> baseSleeps = page.pingPong("jdkVirtual", bytes, ":sleeps");
        List<SvgChart.Bar> sleepBars = new ArrayList<>();            // a chart group of their own, after the medians
        page.append("**").append(size).append("**\n\n| implementation | median µs | p99 µs | mean µs | kernel sleeps per round trip "
                + "| × vs JDK VT (medians) | median ÷ C's |\n|---|---|---|---|---|---|---|\n");
        for (Peer peer : PEERS) {
            Optional<Measurement> median = page.pingPong(peer.variant(), bytes, ":p0.50");
            page.append("| ").append(peer.label()).append(" | ");
            if (median.isEmpty()) {
                page.append("not measured | | | | | |\n");
                continue;
            }
            Measurement m = median.get();
            page.append(ReportPage.number(m.score(), Double.NaN)).append(" | ")
                    .append(page.pingPong(peer.variant(), bytes, ":p0.99").map(p -> ReportPage.number(p.score(), Double.NaN)).orElse(""))
                    .append(" | ")
                    .append(page.pingPong(peer.variant(), bytes, "").map(a -> ReportPage.number(a.score(), a.error())).orElse(""))
                    .append(" | ");
            Optional<Measurement> sleeps = page.pingPong(peer.variant(), bytes, ":sleeps");
            sleeps.ifPresent(s -> page.append(String.format(Locale.ROOT, "%.2f", s.score()))
                    .append(Double.isNaN(s.error()) ? "" : String.format(Locale.ROOT, " ± %.2f", s.error())));
            if (sleeps.isPresent() && baseSleeps.isPresent() && peer.colour() != null) {
                Measurement.Ratio fewer = sleeps.get().against(baseSleeps.get());
                sleepBars.add(new SvgChart.Bar("kernel sleeps per round trip, " + size + " (fewer is better)", peer.label(),
                        fewer.value(), fewer.error(), peer.colour()));
            }
            page.append(" | ");
            if (base.isPresent()) {
                Measurement.Ratio ratio = m.against(base.get());
                page.append(peer.colour() == null ? "1 (baseline)" : ratio.format());
                if (peer.colour() != null) {
                    page.chart.add(new SvgChart.Bar("ping-pong " + size + " (medians)", peer.label(), ratio.value(),
                            ratio.error(), peer.colour()));
                }
            }
            page.append(" | ");
            if (c.isPresent() && !peer.variant().equals("c-blocking")) {
                page.append(m.over(c.get()).format());
            }
            page.append(" |\n");
        }
        page.append("\n");
        sleepBars.forEach(page.chart::add);
    }

    /** Says why the io_uring rows are empty when this machine refuses io_uring. */
    private void ioUringNote() {
        if (page.pingPong("nettyIoUring", "64", ":p0.50").isPresent()) {
            return;
        }
        page.append(ioUringUnavailability().map(why -> "Netty io_uring was skipped: io_uring is not available here (" + why + ").\n\n")
                .orElse(""));
    }

    /** {@return why Netty's io_uring transport cannot run on this machine, if it cannot} */
    static Optional<String> ioUringUnavailability() {
        try {
            return NettyTransport.IO_URING.unavailability();
        } catch (LinkageError e) {
            return Optional.of(e.toString());
        }
    }
}
