package dev.tcpscope.server;

import dev.tcpscope.ServerStats;
import dev.tcpscope.TcpServer;
import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.testing.TransportUnderTest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Child JVM: a {@link TcpServer} in a process started with a low descriptor limit, driven over
 * stdin/stdout.
 *
 * <p>Prints {@code LIMIT <soft> <hard>} and {@code READY <port>}; then answers each stdin line
 * {@code STATS} with one line {@code STATS key=value ...} (the server's counters and the
 * tcpscope poller's wake-ups, 0 on the portable transport), and {@code QUIT} by shutting the
 * server down, printing {@code BYE} and exiting. The handler reads {@code request <i>\n} and
 * answers {@code answer <i>}.
 */
public final class FdLimitedServerMain {

    private FdLimitedServerMain() {}

    public static void main(String[] args) throws Exception {
        System.out.println("LIMIT " + openFilesLimit());
        // Initialise logging now: the accept loop logs its back-offs while no descriptor is free,
        // when reading the logging configuration would fail.
        System.getLogger(TcpServer.class.getName()).log(System.Logger.Level.INFO, "descriptor-limited server starting");

        TcpServer server = TcpServer.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .backlog(1024)
                .drainPeriod(Duration.ofSeconds(1))
                .bind();
        Thread serving = Thread.ofPlatform().name("serve").start(() -> server.serve((conn, scope) -> {
            String request = ServerIo.readLine(conn);
            ServerIo.write(conn, "answer " + request.substring("request ".length()));
        }));
        System.out.println("READY " + server.localAddress().getPort());

        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = stdin.readLine()) != null; ) {
            if (line.equals("STATS")) {
                ServerStats s = server.stats();
                System.out.println("STATS active=" + s.active() + " accepted=" + s.accepted() + " graceful=" + s.graceful()
                        + " aborted=" + s.aborted() + " attempts=" + s.acceptAttempts() + " errors=" + s.acceptErrors()
                        + " backoffs=" + s.backoffs() + " wakeups=" + pollerWakeups());
            } else if (line.equals("QUIT")) {
                break;
            }
        }
        server.close();
        serving.join();
        System.out.println("BYE");
    }

    /**
     * {@return the tcpscope poller's wake-ups; 0 on the portable transport} There the JDK's own
     * poller parks the threads and counts nothing; starting tcpscope's (an epoll descriptor) while
     * the process is out of descriptors would fail, and with it this loop.
     */
    private static long pollerWakeups() {
        return TransportUnderTest.portable() ? 0 : Poller.shared().wakeups();
    }

    private static String openFilesLimit() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                return f[0] + " " + f[1];
            }
        }
        return "unknown unknown";
    }
}
