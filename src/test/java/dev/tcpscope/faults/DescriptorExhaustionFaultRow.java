package dev.tcpscope.faults;

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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fault row "descriptor exhaustion": a {@code TcpServer} in a child JVM
 * ({@link ExhaustionServerChild}) whose RLIMIT_NOFILE is {@value #LIMIT} (soft and hard: HotSpot
 * raises the soft limit to the hard one), under {@value #WAVES} waves of {@value #PER_WAVE}
 * connections opened at once (the handshakes complete in the kernel's backlog; the server accepts
 * until accept4 fails with EMFILE). In each wave, once the server has backed off, every client
 * sends its request. Pass: every client gets its answer and FIN (the server kept serving once its
 * handlers ended and freed descriptors), the server backed off at least once per wave, no
 * connection aborted, and at the end the child holds as many socket descriptors as after it
 * started, its socket layer released every descriptor it opened but the listener's, and its poller
 * holds only the listener's registration.
 *
 * <p>Checked to fail with {@code -Dfaults.break=true}, which runs the child without the lower
 * limit: the server never runs out of descriptors, never backs off, and the row fails.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DescriptorExhaustionFaultRow {

    private static final int LIMIT = 64;
    private static final int WAVES = 4;
    private static final int PER_WAVE = 250;
    private static final Duration GUARD = Duration.ofSeconds(60);

    @Test
    void acceptBacksOffAndServesEveryoneNothingLeaks() throws Exception {
        boolean breakIt = Boolean.getBoolean("faults.break");
        String limit = breakIt ? "4096" : Integer.toString(LIMIT);
        int answered = 0;
        int wavesBackedOff = 0;
        List<String> wrong = new ArrayList<>();
        Map<String, Long> start;
        Map<String, Long> end;
        try (ChildProcess child = ChildJvm.of(ExhaustionServerChild.class).twoCarriers().classesFromJar()
                .behind("bash", "-c", "ulimit -n " + limit + " && exec \"$@\"", "bash").start()) {
            int port = Integer.parseInt(child.expect("READY", GUARD).substring("READY ".length()));
            start = stats(child, "STATS fds");
            long backoffs = start.get("backoffs");
            for (int wave = 0; wave < WAVES; wave++) {
                List<JdkPeer> peers = new ArrayList<>();
                try {
                    for (int i = 0; i < PER_WAVE; i++) {
                        peers.add(JdkPeer.connect(port));
                    }
                    long before = backoffs;
                    Map<String, Long> flooded = awaitStats(child, "the server has taken what it can",
                            s -> s.get("backoffs") > before || s.get("active") == PER_WAVE);
                    if (flooded.get("backoffs") > before) {
                        wavesBackedOff++;
                    }
                    backoffs = flooded.get("backoffs");
                    try (ExecutorService pool = Executors.newThreadPerTaskExecutor(Thread.ofPlatform().factory())) {
                        List<Future<Seen>> answers = new ArrayList<>();
                        for (int i = 0; i < PER_WAVE; i++) {
                            JdkPeer peer = peers.get(i);
                            int id = wave * PER_WAVE + i;
                            answers.add(pool.submit(() -> {
                                peer.write("request " + id + "\n");
                                return peer.readToEndAndClose();
                            }));
                        }
                        for (int i = 0; i < PER_WAVE; i++) {
                            Seen seen = answers.get(i).get(GUARD.toSeconds(), TimeUnit.SECONDS);
                            if (seen.isEof() && seen.text().equals("answer " + (wave * PER_WAVE + i))) {
                                answered++;
                            } else if (wrong.size() < 10) {
                                wrong.add("wave " + wave + " client " + i + ": " + seen);
                            }
                        }
                    }
                } finally {
                    peers.forEach(JdkPeer::close);
                }
            }
            awaitStats(child, "every connection ended", s -> s.get("active") == 0);
            Map<String, Long> base = start;
            AtomicReference<Map<String, Long>> last = new AtomicReference<>();
            try {
                Await.until("the child's sockets, descriptors and poller slots are back at the start", () -> {
                    last.set(stats(child, "STATS fds"));
                    return last.get().get("sockets").equals(base.get("sockets"))
                            && last.get().get("opened") - last.get().get("released") == base.get("opened") - base.get("released")
                            && last.get().get("slots").equals(base.get("slots"));
                });
            } catch (AssertionError e) {
                wrong.add("not back at the start: " + last.get());
            }
            end = last.get();
            child.sendLine("QUIT");
            child.expect("BYE", GUARD);
        }
        int total = WAVES * PER_WAVE;
        boolean pass = wrong.isEmpty() && answered == total && wavesBackedOff == WAVES && end.get("aborted") == 0;
        FaultReport.row("descriptor exhaustion", pass, String.format(
                "RLIMIT_NOFILE %s; %d waves of %d connections: %d/%d answered with FIN, server backed off in %d/%d waves"
                        + " (%d back-offs, %d EMFILE/ENFILE, %d accept attempts, %d aborted); child at start/end: socket fds"
                        + " %d/%d, layer opened-released %d/%d, poller slots %d/%d",
                limit, WAVES, PER_WAVE, answered, total, wavesBackedOff, WAVES, end.get("backoffs"), end.get("errors"),
                end.get("attempts"), end.get("aborted"), start.get("sockets"), end.get("sockets"),
                start.get("opened") - start.get("released"), end.get("opened") - end.get("released"), start.get("slots"),
                end.get("slots")));
        String why = "wrong: " + wrong + "; waves backed off " + wavesBackedOff + "; answered " + answered;
        assertTrue(pass, why);
    }

    private static Map<String, Long> stats(ChildProcess child, String command) {
        child.sendLine(command);
        Map<String, Long> values = new HashMap<>();
        for (String field : child.expect("STATS", GUARD).substring("STATS ".length()).split(" ")) {
            int eq = field.indexOf('=');
            values.put(field.substring(0, eq), Long.parseLong(field.substring(eq + 1)));
        }
        return values;
    }

    private static Map<String, Long> awaitStats(ChildProcess child, String what, Predicate<Map<String, Long>> condition) {
        AtomicReference<Map<String, Long>> last = new AtomicReference<>();
        Await.until(() -> "timed out after " + GUARD.toSeconds() + " s waiting until " + what + "; last " + last.get()
                + "; " + child.describe(), GUARD, () -> {
            last.set(stats(child, "STATS"));
            return condition.test(last.get());
        });
        return last.get();
    }
}
