package dev.tcpscope.faults;

import dev.tcpscope.ServerStats;
import dev.tcpscope.TcpServer;
import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.internal.poll.SocketDescriptor;
import dev.tcpscope.server.ServerIo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The child JVM of {@link DescriptorExhaustionFaultRow}: a {@link TcpServer} in a process started
 * with a low descriptor limit ({@code ulimit -n}). Prints {@code READY <port>}; answers each stdin
 * line {@code STATS} with {@code STATS key=value ...}: the server's counters, the socket layer's
 * opened and released counts, the shared poller's occupied slots and, with {@code STATS fds},
 * the socket descriptors in {@code /proc/self/fd} (only asked once descriptors are free again:
 * listing the directory takes one). {@code QUIT} closes the server and prints {@code BYE}. The
 * handler reads {@code request <i>\n} and answers {@code answer <i>}.
 */
public final class ExhaustionServerChild {

    private ExhaustionServerChild() {}

    /** See the class comment. */
    public static void main(String[] args) throws Exception {
        // Logging initialised now: the accept loop logs back-offs when no descriptor is free.
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
            if (line.startsWith("STATS")) {
                ServerStats s = server.stats();
                System.out.println("STATS active=" + s.active() + " accepted=" + s.accepted() + " graceful="
                        + s.graceful() + " aborted=" + s.aborted() + " attempts=" + s.acceptAttempts() + " errors="
                        + s.acceptErrors() + " backoffs=" + s.backoffs() + " opened=" + SocketDescriptor.openedCount()
                        + " released=" + SocketDescriptor.releasedCount() + " slots=" + PollerSlots.occupied()
                        + " wakeups=" + Poller.shared().wakeups()
                        + (line.equals("STATS fds") ? " sockets=" + sockets() : ""));
            } else if (line.equals("QUIT")) {
                break;
            }
        }
        server.close();
        serving.join();
        System.out.println("BYE");
    }

    private static int sockets() throws IOException {
        int n = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path entry : entries) {
                try {
                    if (Files.readSymbolicLink(entry).toString().startsWith("socket:")) {
                        n++;
                    }
                } catch (IOException closedMeanwhile) {
                    // not a socket we can count
                }
            }
        }
        return n;
    }
}
