package dev.tcpscope.bench.report;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The TLS part of the report (issue 14): its targets, a list of their own after issue 12's, and
 * section 8 — TLS 1.3 ping-pong, bulk transfer and lifecycle with handshake, tcpscope against the
 * JDK's {@code SSLSocket} on virtual threads ({@code TlsPingPong}, {@code TlsBulkTransfer},
 * {@code TlsLifecycle}), with the cost of TLS beside each (the same figure of sections 1 and 3,
 * measured without TLS in the same run, where it was).
 */
final class TlsSection {

    private final ReportPage page;

    TlsSection(ReportPage page) {
        this.page = page;
    }

    /** "Targets (issue 14)": at least the JDK's figure at each TLS benchmark. */
    void targets() {
        page.append("## Targets (issue 14: TLS)\n\n");
        page.append("Each against the JDK's `SSLSocket` on virtual threads, in the same run (section 8): at least 1.0× "
                + "the JDK at each. Same verdict rule as above.\n\n");
        page.append("| target | figure measured | met? |\n|---|---|---|\n");
        for (String bytes : List.of("64", "16384")) {
            page.target("TLS ping-pong " + ReportPage.size(bytes) + ": tcpscope's median round trip ÷ the JDK SSLSocket's ≤ 1.0",
                    pingPong("tcpscopeVirtual", bytes, ":p0.50"), pingPong("jdkVirtual", bytes, ":p0.50"),
                    Measurement::over, 1.0, true);
        }
        page.target("TLS bulk transfer, 16 KiB writes: tcpscope's MiB/s ÷ the JDK SSLSocket's ≥ 1.0",
                bulk("tcpscopeVirtual"), bulk("jdkVirtual"), Measurement::against, 1.0, false);
        page.target("TLS lifecycle with handshake: tcpscope connectTls + finish() ÷ the JDK SSLSocket's graceful ending, "
                        + "connections/s, same JDK server ≥ 1.0",
                lifecycle("tcpscopeFinish"), lifecycle("jdkGraceful"), Measurement::against, 1.0, false);
        page.append("\n");
    }

    /** Section 8. */
    void write() {
        page.append("## 8. TLS 1.3: tcpscope against the JDK's SSLSocket, both on virtual threads (issue 14)\n\n");
        page.append("""
                Both ends of every variant in the benchmark's JVM, as in sections 1, 3 and 4. TLS 1.3 only, cipher \
                suite TLS_AES_256_GCM_SHA384, key exchange x25519, a self-signed ECDSA P-256 certificate made by \
                keytool once per trial; the client checks it against 127.0.0.1 (endpoint identification HTTPS, no \
                SNI). Session resumption is off on both sides (`-Djdk.tls.server.newSessionTicketCount=0`: the \
                servers send no ticket, so every handshake is a full one). tcpscope runs the JDK's `SSLEngine` under \
                its own sockets (`TcpConnection.connectTls`, `TcpServer` with `tls`); the JDK runs `SSLSocket` and \
                `SSLServerSocket` with a virtual thread per connection: the cryptography is the JDK's on both.

                """);
        for (String bytes : List.of("64", "16384")) {
            pingPongTable(bytes);
        }
        bulkTable();
        lifecycleTable();
    }

    private void pingPongTable(String bytes) {
        String size = ReportPage.size(bytes);
        Optional<Measurement> base = pingPong("jdkVirtual", bytes, ":p0.50");
        page.append("**Ping-pong ").append(size).append("** (µs per round trip, lower is better; as section 1)\n\n")
                .append("| implementation | median µs | p99 µs | mean µs | kernel sleeps per round trip "
                        + "| × vs JDK SSLSocket (medians) | median with TLS ÷ without (section 1) |\n|---|---|---|---|---|---|---|\n");
        for (String[] peer : List.of(new String[] {"jdkVirtual", "JDK SSLSocket, virtual threads (baseline)"},
                new String[] {"tcpscopeVirtual", "tcpscope connectTls + TcpServer with TLS, virtual threads"})) {
            String variant = peer[0];
            Optional<Measurement> median = pingPong(variant, bytes, ":p0.50");
            page.append("| ").append(peer[1]).append(" | ");
            if (median.isEmpty()) {
                page.append("not measured | | | | | |\n");
                continue;
            }
            Measurement m = median.get();
            page.append(ReportPage.number(m.score(), Double.NaN)).append(" | ")
                    .append(pingPong(variant, bytes, ":p0.99").map(p -> ReportPage.number(p.score(), Double.NaN)).orElse(""))
                    .append(" | ")
                    .append(pingPong(variant, bytes, "").map(a -> ReportPage.number(a.score(), a.error())).orElse(""))
                    .append(" | ")
                    .append(pingPong(variant, bytes, ":sleeps").map(s -> String.format(Locale.ROOT, "%.2f", s.score())
                            + (Double.isNaN(s.error()) ? "" : String.format(Locale.ROOT, " ± %.2f", s.error()))).orElse(""))
                    .append(" | ");
            if (base.isPresent()) {
                if (base.get() == m) {
                    page.append("1 (baseline)");
                } else {
                    Measurement.Ratio ratio = m.against(base.get());
                    page.append(ratio.format());
                    page.chart.add(new SvgChart.Bar("TLS ping-pong " + size + " (medians), vs the JDK's SSLSocket",
                            "tcpscope TLS", ratio.value(), ratio.error(), ReportPage.TCPSCOPE));
                }
            }
            page.append(" | ")
                    .append(page.pingPong(variant, bytes, ":p0.50").map(plain -> m.over(plain).format()).orElse(""))
                    .append(" |\n");
        }
        page.append("\n");
    }

    private void bulkTable() {
        page.append("**Bulk transfer**, one connection, 8 MiB rounds of 16 KiB writes (one full TLS record each), "
                + "each round acknowledged by the receiver (MiB/s of plaintext, higher is better; section 4 has the "
                + "same without TLS, with 64 KiB writes)\n\n");
        page.append("| implementation | MiB/s | × vs JDK SSLSocket | |\n|---|---|---|---|\n");
        Optional<Measurement> base = bulk("jdkVirtual");
        String group = "TLS bulk transfer, 16 KiB writes";
        page.row(group, "JDK SSLSocket, virtual threads (baseline)", base, base, Optional.empty(), null);
        page.row(group, "tcpscope TLS, virtual threads", bulk("tcpscopeVirtual"), base, Optional.empty(), ReportPage.TCPSCOPE);
        page.append("\n");
    }

    private void lifecycleTable() {
        page.append("**Lifecycle with handshake**: connect, full TLS handshake, 64 B request and reply, graceful "
                + "ending; one virtual thread, one connection after another (connections/s, higher is better). "
                + "The first two rows talk to the same JDK `SSLServerSocket` server (read the request, reply, read "
                + "to the client's close_notify, close).\n\n");
        page.append("| client | connections/s | × vs JDK SSLSocket graceful | rate with TLS ÷ without (section 3) |\n"
                + "|---|---|---|---|\n");
        Optional<Measurement> base = lifecycle("jdkGraceful");
        String group = "TLS lifecycle with handshake";
        page.row(group, "JDK SSLSocket: startHandshake, shutdownOutput (close_notify, FIN), read to EOF, close (baseline)",
                base, base, page.data.find("ConnectionLifecycle", "jdkGraceful"), null);
        page.row(group, "tcpscope connectTls, finish() (close_notify, then FIN, all acknowledged)",
                lifecycle("tcpscopeFinish"), base, page.data.find("ConnectionLifecycle", "tcpscopeFinish"),
                ReportPage.TCPSCOPE);
        page.row(group, "tcpscope connectTls, finish(), against tcpscope's TcpServer with TLS",
                lifecycle("tcpscopeFinishTcpServer"), base, page.data.find("ConnectionLifecycle", "tcpscopeFinishTcpServer"),
                ReportPage.TCPSCOPE);
        page.append("\n");
    }

    private Optional<Measurement> pingPong(String variant, String bytes, String suffix) {
        return page.data.find("TlsPingPong", variant + suffix, m -> m.param("bytes").equals(bytes));
    }

    private Optional<Measurement> bulk(String variant) {
        return page.data.find("TlsBulkTransfer", variant);
    }

    private Optional<Measurement> lifecycle(String variant) {
        return page.data.find("TlsLifecycle", variant);
    }
}
