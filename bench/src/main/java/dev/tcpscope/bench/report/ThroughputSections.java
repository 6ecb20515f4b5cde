package dev.tcpscope.bench.report;

import java.util.List;
import java.util.Optional;

/**
 * Sections 2 to 4 of the report: echo throughput, connection lifecycle and bulk transfer, each a
 * table of rates with ratios against the JDK baseline of the same run (2b, the echo with a C
 * client and the servers' CPU, is {@link EchoProcessSection}).
 */
final class ThroughputSections {

    private final ReportPage page;

    ThroughputSections(ReportPage page) {
        this.page = page;
    }

    void write() {
        echo();
        new EchoProcessSection(page).write();
        lifecycle();
        bulk();
        new RelaySection(page).write();
    }

    private void echo() {
        page.append("## 2. Echo throughput, 1 KiB messages (messages/s, higher is better)\n\n");
        page.append("One load-generating client for every server (a selector thread, one message in flight per connection), "
                + "in the server's JVM. Netty runs the same server on both of its native transports, two event loops each. "
                + "Section 2b runs the same servers against a C client, with each side's CPU.\n\n");
        page.append("| connections | server | messages/s | × vs JDK VT | × vs Netty epoll |\n|---|---|---|---|---|\n");
        for (String n : List.of("1", "100", "1000")) {
            Optional<Measurement> base = page.echo("jdk-virtual", n), netty = page.echo("netty-epoll", n);
            String group = "echo, " + n + " connection" + (n.equals("1") ? "" : "s");
            for (String[] s : List.of(new String[]{"jdk-virtual", "JDK, virtual thread per connection (baseline)", null},
                    new String[]{"netty-epoll", "Netty 4.2 native epoll", ReportPage.NETTY},
                    new String[]{"netty-io_uring", "Netty 4.2 native io_uring", ReportPage.NETTY_IO_URING},
                    new String[]{"tcpscope", "tcpscope TcpServer", ReportPage.TCPSCOPE})) {
                page.append("| ").append(n).append(' ');
                page.row(group, s[1], page.echo(s[0], n), base, netty, s[2]);
            }
        }
        page.append("\n");
        if (page.echo("netty-io_uring", "100").isEmpty()) {
            PingPongSection.ioUringUnavailability().ifPresent(why ->
                    page.append("Netty io_uring was skipped: io_uring is not available here (").append(why).append(").\n\n"));
        }
    }

    private void lifecycle() {
        page.append("## 3. Connection lifecycle: connect, 64 B request and reply, ending (connections/s, higher is better)\n\n");
        page.append("One virtual thread, one connection after another; the core variants talk to the same JDK server, ")
                .append("in the benchmark's JVM or (\"own JVM\" rows) alone in a JVM of its own, where the client's ")
                .append("threads do not share its carriers.\n\n");
        page.append("| client | connections/s | × vs JDK equivalent | × vs JDK graceful |\n|---|---|---|---|\n");
        Optional<Measurement> graceful = page.data.find("ConnectionLifecycle", "jdkGraceful");
        Optional<Measurement> linger = page.data.find("ConnectionLifecycle", "jdkLingerZero");
        String group = "connection lifecycle";
        page.row(group, "JDK: shutdownOutput, read to EOF, close (baseline)", graceful, graceful, graceful, null);
        page.row(group, "tcpscope finish() (FIN, all acknowledged)", page.data.find("ConnectionLifecycle", "tcpscopeFinish"),
                graceful, graceful, ReportPage.TCPSCOPE);
        page.row(group, "tcpscope finish(), against tcpscope's TcpServer",
                page.data.find("ConnectionLifecycle", "tcpscopeFinishTcpServer"), graceful, graceful, ReportPage.TCPSCOPE);
        Optional<Measurement> gracefulApart = page.data.find("ConnectionLifecycle", "jdkGracefulServerProcess");
        page.row(group, "JDK graceful, the server in its own JVM (baseline of the next row)", gracefulApart,
                gracefulApart, graceful, null);
        page.row(group, "tcpscope finish(), the server in its own JVM",
                page.data.find("ConnectionLifecycle", "tcpscopeFinishServerProcess"), gracefulApart, graceful,
                ReportPage.TCPSCOPE);
        page.row(group, "JDK: SO_LINGER 0, close (RST)", linger, linger, graceful, null);
        page.row(group, "tcpscope abort() (RST)", page.data.find("ConnectionLifecycle", "tcpscopeAbort"), linger, graceful,
                ReportPage.TCPSCOPE);
        page.append("\n");
    }

    private void bulk() {
        page.append("## 4. Bulk transfer, one connection, 8 MiB rounds of 64 KiB writes (MiB/s, higher is better)\n\n");
        page.append("| implementation | MiB/s | × vs JDK VT | × vs C |\n|---|---|---|---|\n");
        Optional<Measurement> base = page.data.find("BulkTransfer", "jdkVirtual"), c = page.data.find("bulk", "c-blocking");
        String group = "bulk transfer";
        page.row(group, "C, blocking (physical limit)", c, base, c, ReportPage.C);
        page.row(group, "JDK SocketChannel, platform threads", page.data.find("BulkTransfer", "jdkPlatform"), base, c, ReportPage.JDK);
        page.row(group, "JDK SocketChannel, virtual threads (baseline)", base, base, c, null);
        page.row(group, "tcpscope, virtual threads", page.data.find("BulkTransfer", "tcpscopeVirtual"), base, c, ReportPage.TCPSCOPE);
        page.append("\n");
    }
}
