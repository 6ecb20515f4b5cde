package dev.tcpscope;

import dev.tcpscope.server.ManyClientsMain;
import dev.tcpscope.server.RunningServer;
import dev.tcpscope.server.ServerIo;
import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;
import dev.tcpscope.testing.OpenSockets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 10,000 connections held open at once and served on two carrier threads. The clients live in
 * a child JVM (both ends in one JVM would need more than 20,000 descriptors, this machine's hard
 * limit); the two processes step together over the child's stdin and stdout.
 */
class ServerManyConnectionsTest {

    private static final int CONNECTIONS = 10_000;
    private static final Duration GUARD = Duration.ofSeconds(90);

    @Test
    @Timeout(150)
    void tenThousandConcurrentConnectionsOnTwoCarriers() throws Exception {
        assertEquals("2", System.getProperty("jdk.virtualThreadScheduler.parallelism"),
                "the test JVM must run with exactly 2 carrier threads");
        assertEquals("2", System.getProperty("jdk.virtualThreadScheduler.maxPoolSize"));
        long limit = descriptorLimit();
        assertTrue(limit >= CONNECTIONS + 1_000, "this JVM's descriptor limit " + limit + " is too low for "
                + CONNECTIONS + " server sockets");

        int baseline = OpenSockets.count();
        Set<String> carriers = ConcurrentHashMap.newKeySet();
        TcpServer server = TcpServer.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .backlog(4096)
                .maxConnections(CONNECTIONS)
                .bind();
        var running = RunningServer.start(server, (conn, scope) -> {
            String request = ServerIo.readLine(conn); // "request <i>"
            carriers.add(carrierOf(Thread.currentThread()));
            int id = Integer.parseInt(request.substring("request ".length()));
            ServerIo.write(conn, ManyClientsMain.response(id));
        });
        try (ChildProcess clients = ChildJvm.of(ManyClientsMain.class).twoCarriers().jvmOptions("-Xss256k")
                .start(String.valueOf(running.port()), String.valueOf(CONNECTIONS))) {
            String connected = clients.expect("CONNECTED", GUARD);
            assertTrue(connected.startsWith("CONNECTED ok=" + CONNECTIONS + " failed=0"), connected);

            // Every connection accepted and its handler running (blocked reading its request).
            running.awaitStats("all " + CONNECTIONS + " connections are active at once",
                    s -> s.active() == CONNECTIONS);
            int held = OpenSockets.count();
            assertTrue(held >= baseline + CONNECTIONS, "sockets held: " + held + ", baseline " + baseline);

            clients.sendLine("GO");
            String done = clients.expect("DONE", GUARD);
            assertEquals("DONE ok=" + CONNECTIONS + " bad=0 first=null", done);
            assertEquals(0, clients.awaitExit(GUARD), clients::describe);

            ServerStats stats = running.awaitStats("every connection ended", s -> s.active() == 0);
            assertEquals(CONNECTIONS, stats.accepted(), stats::toString);
            assertEquals(CONNECTIONS, stats.graceful(), stats::toString);
            assertEquals(0, stats.aborted(), stats::toString);
            assertEquals(0, stats.acceptErrors(), stats::toString);
            System.out.println("served " + CONNECTIONS + " connections on carriers " + carriers + ": " + stats);
            assertTrue(!carriers.isEmpty() && carriers.size() <= 2, () -> "handlers ran on carriers " + carriers);
        } finally {
            running.close();
        }
        OpenSockets.awaitCount(baseline);
    }

    /** A virtual thread's toString names its carrier: {@code VirtualThread[#22]/runnable@ForkJoinPool-1-worker-1}. */
    private static String carrierOf(Thread thread) {
        String s = thread.toString();
        int at = s.indexOf('@');
        return at < 0 ? s : s.substring(at + 1);
    }

    private static long descriptorLimit() throws java.io.IOException {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                return Long.parseLong(line.substring("Max open files".length()).trim().split("\\s+")[0]);
            }
        }
        throw new IllegalStateException("no descriptor limit in /proc/self/limits");
    }
}
