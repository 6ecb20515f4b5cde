package dev.tcpscope;

import dev.tcpscope.server.FdLimitedServerMain;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server in a child JVM whose descriptor limit is far below the connections it is offered:
 * accept4 fails with EMFILE; the server keeps its listener, backs off instead of spinning, and
 * serves every connection once descriptors are free again (its handlers end and close theirs).
 *
 * <p>Runs on both transports (the child inherits {@code tcpscope.transport}). On portable it once
 * failed: the JDK's virtual-thread poller ({@code sun.nio.ch.Poller}) started at the first
 * handler's read, when the flood had taken every descriptor; its initializer failed with EMFILE
 * and every later read of every handler threw {@code NoClassDefFoundError}, so every connection
 * was aborted. Checked by breaking the code: without {@code JdkPollerStart.now()} in
 * {@code PortableTransport} the portable run fails again (the child stops answering, its stderr
 * full of {@code NoClassDefFoundError: Could not initialize class sun.nio.ch.Poller}); with
 * {@code ChannelFailures.descriptorExhaustion} returning {@code e} unchanged it fails on the log
 * assertion (the loop logs the untyped error as SEVERE); on native, with
 * {@code Errno.isDescriptorExhaustion} answering false, the same.
 */
class ServerDescriptorLimitTest {

    /** The child's soft and hard limit: HotSpot raises the soft limit to the hard one, so both are set. */
    private static final int LIMIT = 64;
    private static final int CONNECTIONS = 200;
    private static final Duration GUARD = Duration.ofSeconds(60);

    @Test
    @Timeout(120)
    void serverOutOfDescriptorsBacksOffAndServesEveryoneLater() throws Exception {
        try (ChildProcess child = ChildJvm.of(FdLimitedServerMain.class).twoCarriers().classesFromJar()
                .behind("bash", "-c", "ulimit -n " + LIMIT + " && exec \"$@\"", "bash").start()) {
            assertEquals("LIMIT " + LIMIT + " " + LIMIT, child.expect("LIMIT", GUARD), child::describe);
            int port = Integer.parseInt(child.expect("READY", GUARD).substring("READY ".length()));

            List<JdkPeer> peers = new ArrayList<>();
            Map<String, Long> full;
            try {
                // The flood: every handshake completes in the kernel (backlog 1024); the server
                // accepts until it runs out of descriptors, its handlers wait for their requests.
                for (int i = 0; i < CONNECTIONS; i++) {
                    peers.add(JdkPeer.connect(port));
                }
                full = awaitStats(child, "the server ran out of descriptors and backed off",
                        s -> s.get("backoffs") > 0);
                Map<String, Long> flooded = full;
                assertTrue(flooded.get("errors") > 0, flooded::toString);
                assertTrue(flooded.get("accepted") < CONNECTIONS, () -> "the limit " + LIMIT + " did not bite: " + flooded);

                // Now every peer sends its request: the accepted ones are answered, end, and free
                // descriptors; the others are accepted after a back-off, and so on.
                try (ExecutorService pool = Executors.newThreadPerTaskExecutor(Thread.ofPlatform().factory())) {
                    List<Future<Seen>> answers = new ArrayList<>();
                    for (int i = 0; i < CONNECTIONS; i++) {
                        JdkPeer peer = peers.get(i);
                        int id = i;
                        answers.add(pool.submit(() -> {
                            peer.write("request " + id + "\n");
                            return peer.readToEndAndClose();
                        }));
                    }
                    for (int i = 0; i < CONNECTIONS; i++) {
                        Seen received = answers.get(i).get();
                        int id = i;
                        assertTrue(received.isEof(), () -> "connection " + id + ": " + received);
                        assertEquals("answer " + i, received.text());
                    }
                }
            } finally {
                for (JdkPeer peer : peers) {
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
            // On portable the JDK's poller parks the threads and the child reports 0 wake-ups.
            assertTrue(end.get("attempts") < 50 * (accepted + backoffs), () -> "accept attempts: " + end);
            assertTrue(end.get("wakeups") < 50 * (accepted + backoffs), () -> "poller wake-ups: " + end);

            child.sendLine("QUIT");
            child.expect("BYE", GUARD);
            assertEquals(0, child.awaitExit(GUARD), child::describe);
            // Out of descriptors is known as such on both transports (a SystemCallException
            // EMFILE: on portable the JDK's "Too many open files" is typed so), so the loop logs
            // it as a warning; an accept error it cannot classify is logged as SEVERE.
            String log = child.stderr();
            assertTrue(log.contains("WARNING: accept failed, backing off") && log.contains("EMFILE"), log);
            assertFalse(log.contains("SEVERE: accept failed"), log);
        }
    }

    private static Map<String, Long> awaitStats(ChildProcess child, String what,
                                                Predicate<Map<String, Long>> condition) {
        var last = new AtomicReference<Map<String, Long>>();
        Await.until(() -> "timed out after " + GUARD.toSeconds() + " s waiting until " + what + "; last " + last.get()
                + "; " + child.describe(), GUARD, () -> {
            child.sendLine("STATS");
            last.set(parse(child.expect("STATS", GUARD)));
            return condition.test(last.get());
        });
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
