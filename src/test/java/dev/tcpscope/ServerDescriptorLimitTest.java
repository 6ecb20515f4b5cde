package dev.tcpscope;

import dev.tcpscope.server.Await;
import dev.tcpscope.server.ChildJvm;
import dev.tcpscope.server.FdLimitedServerMain;
import dev.tcpscope.server.Peer;
import dev.tcpscope.server.Peer.Received;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server in a child JVM whose descriptor limit is far below the connections it is offered:
 * accept4 fails with EMFILE; the server keeps its listener, backs off instead of spinning, and
 * serves every connection once descriptors are free again (its handlers end and close theirs).
 */
class ServerDescriptorLimitTest {

    /** The child's soft and hard limit: HotSpot raises the soft limit to the hard one, so both are set. */
    private static final int LIMIT = 64;
    private static final int CONNECTIONS = 200;
    private static final Duration GUARD = Duration.ofSeconds(60);

    @Test
    @Timeout(120)
    void serverOutOfDescriptorsBacksOffAndServesEveryoneLater() throws Exception {
        List<String> lowLimit = List.of("bash", "-c", "ulimit -n " + LIMIT + " && exec \"$@\"", "bash");
        try (ChildJvm child = ChildJvm.start(lowLimit, List.of(), FdLimitedServerMain.class)) {
            assertEquals("LIMIT " + LIMIT + " " + LIMIT, child.expect("LIMIT", GUARD), child::describe);
            int port = Integer.parseInt(child.expect("READY", GUARD).substring("READY ".length()));

            List<Socket> peers = new ArrayList<>();
            Map<String, Long> full;
            try {
                // The flood: every handshake completes in the kernel (backlog 1024); the server
                // accepts until it runs out of descriptors, its handlers wait for their requests.
                for (int i = 0; i < CONNECTIONS; i++) {
                    peers.add(Peer.connect(port));
                }
                full = awaitStats(child, "the server ran out of descriptors and backed off",
                        s -> s.get("backoffs") > 0);
                Map<String, Long> flooded = full;
                assertTrue(flooded.get("errors") > 0, flooded::toString);
                assertTrue(flooded.get("accepted") < CONNECTIONS, () -> "the limit " + LIMIT + " did not bite: " + flooded);

                // Now every peer sends its request: the accepted ones are answered, end, and free
                // descriptors; the others are accepted after a back-off, and so on.
                try (ExecutorService pool = Executors.newThreadPerTaskExecutor(Thread.ofPlatform().factory())) {
                    List<Future<Received>> answers = new ArrayList<>();
                    for (int i = 0; i < CONNECTIONS; i++) {
                        Socket peer = peers.get(i);
                        int id = i;
                        answers.add(pool.submit(() -> {
                            Peer.send(peer, "request " + id + "\n");
                            Received received = Peer.readToEnd(peer);
                            peer.close();
                            return received;
                        }));
                    }
                    for (int i = 0; i < CONNECTIONS; i++) {
                        Received received = answers.get(i).get();
                        int id = i;
                        assertTrue(received.eof(), () -> "connection " + id + ": " + received);
                        assertEquals("answer " + i, received.text());
                    }
                }
            } finally {
                for (Socket peer : peers) {
                    peer.close();
                }
            }

            Map<String, Long> end = awaitStats(child, "every connection ended",
                    s -> s.get("active") == 0 && s.get("graceful") == CONNECTIONS);
            System.out.println("descriptor-limited server, flooded: " + full + "; at the end: " + end);
            long accepted = end.get("accepted");
            long backoffs = end.get("backoffs");
            assertEquals(CONNECTIONS, accepted, end::toString);
            assertEquals(0, end.get("aborted"), end::toString);
            assertTrue(backoffs > 0 && backoffs <= end.get("errors"), end::toString);
            assertEquals(accepted + end.get("errors"), end.get("attempts"), end::toString);
            // No busy loop: every accept attempt and every poller wake-up is paid for by a
            // connection or a back-off (a spinning loop makes millions of them in these seconds).
            assertTrue(end.get("attempts") < 50 * (accepted + backoffs), () -> "accept attempts: " + end);
            assertTrue(end.get("wakeups") < 50 * (accepted + backoffs), () -> "poller wake-ups: " + end);

            child.send("QUIT");
            child.expect("BYE", GUARD);
            assertEquals(0, child.awaitExit(GUARD), child::describe);
        }
    }

    private static Map<String, Long> awaitStats(ChildJvm child, String what,
                                                java.util.function.Predicate<Map<String, Long>> condition) {
        var last = new java.util.concurrent.atomic.AtomicReference<Map<String, Long>>();
        Await.until(what, () -> {
            child.send("STATS");
            try {
                last.set(parse(child.expect("STATS", GUARD)));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            return condition.test(last.get());
        }, () -> last.get() + "; " + child.describe());
        return last.get();
    }

    private static Map<String, Long> parse(String line) {
        Map<String, Long> values = new HashMap<>();
        for (String field : line.substring("STATS ".length()).split(" ")) {
            int eq = field.indexOf('=');
            values.put(field.substring(0, eq), Long.parseLong(field.substring(eq + 1)));
        }
        return values;
    }
}
