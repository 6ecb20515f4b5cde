package dev.tcpscope.bench.report;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Section 2b of the report: the echo benchmark with the C load client ({@code bench/c/echoload.c})
 * and each server alone in its own JVM ({@code ceiling/EchoCeilingHarness}): the rate beside the
 * CPU the server, the client and the rest of the machine used, so that a server's cost per
 * message can be read apart from the client's and from whatever else shares the two cores.
 */
final class EchoProcessSection {

    private static final List<String[]> SERVERS = List.of(
            new String[]{"jdk-virtual", "JDK, virtual thread per connection (baseline)"},
            new String[]{"netty-epoll", "Netty 4.2 native epoll"},
            new String[]{"netty-io_uring", "Netty 4.2 native io_uring"},
            new String[]{"tcpscope", "tcpscope TcpServer"});

    private final ReportPage page;

    EchoProcessSection(ReportPage page) {
        this.page = page;
    }

    void write() {
        page.append("### 2b. Echo, 1 KiB, C load client, each server in its own JVM (outside JMH)\n\n");
        if (find("jdk-virtual", "", "100").isEmpty()) {
            page.append("Not measured in this run.\n\n");
            return;
        }
        page.append("""
                `bench/c/echoload.c`: one epoll thread, one message in flight per connection (the next goes out as \
                soon as its echo is back; no rounds). The server is a child JVM of its own (`EchoServerProcess`). \
                CPU in cores (CPU seconds per second) over each measurement iteration: the server's from \
                `/proc/PID/stat` (10 ms ticks), the client's from `getrusage`, "rest" = the busy time of all \
                cores in `/proc/stat` minus both (other processes sharing the machine). The two cores are \
                shared: when server + client + rest is about 2, the machine is the ceiling and the rate is about \
                2 ÷ (server + client CPU per message), so compare servers by their CPU µs per message. On \
                loopback the sender's write runs the receiver's TCP input too, so each side's figure includes \
                some of the other's kernel work (the same for every server). Server sleeps: voluntary context \
                switches of the server's threads per message (`/proc/PID/task/*/status`), each a thread that \
                blocked and had to be woken.

                | connections | server | messages/s | × vs JDK VT | server CPU, cores | server CPU µs/msg | server sleeps/msg | client CPU, cores | client CPU µs/msg | rest of the machine, cores |
                |---|---|---|---|---|---|---|---|---|---|
                """);
        for (String n : List.of("1", "100", "1000")) {
            Optional<Measurement> base = find("jdk-virtual", "", n);
            for (String[] s : SERVERS) {
                Optional<Measurement> rate = find(s[0], "", n);
                if (rate.isEmpty()) {
                    continue;
                }
                Measurement r = rate.get();
                double clientCores = value(s[0], ":client-cpu", n);
                page.append("| ").append(n).append(" | ").append(s[1]).append(" | ")
                        .append(ReportPage.number(r.score(), r.error())).append(" | ")
                        .append(base.map(b -> b == r ? "1 (baseline)" : r.against(b).format()).orElse("")).append(" | ")
                        .append(formatted(s[0], ":server-cpu", n)).append(" | ")
                        .append(formatted(s[0], ":server-us", n)).append(" | ")
                        .append(formatted(s[0], ":server-sleeps", n)).append(" | ")
                        .append(formatted(s[0], ":client-cpu", n)).append(" | ")
                        .append(String.format(Locale.ROOT, "%.1f", clientCores / r.score() * 1e6)).append(" | ")
                        .append(formatted(s[0], ":others-cpu", n)).append(" |\n");
            }
        }
        page.append("\n");
    }

    private Optional<Measurement> find(String server, String suffix, String connections) {
        return page.data.find("echo-process", server + suffix, m -> m.param("connections").equals(connections));
    }

    private double value(String server, String suffix, String connections) {
        return find(server, suffix, connections).map(Measurement::score).orElse(Double.NaN);
    }

    private String formatted(String server, String suffix, String connections) {
        return find(server, suffix, connections).map(m -> ReportPage.number(m.score(), m.error())).orElse("");
    }
}
