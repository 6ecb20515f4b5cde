package dev.tcpscope.faults;

import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;
import dev.tcpscope.testing.LinkedNamespaces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fault row "partition during read / write": {@value #CONNECTIONS} tcpscope connections
 * ({@link PartitionChild}, namespace {@code a}) to the Python peer in namespace {@code b}; the
 * nftables rule cuts the peer's port both ways; then on every connection one thread (readers and
 * writers alternating, virtual and platform threads alternating) reads, or writes 32 MiB, with a
 * read or write timeout of {@value #TIMEOUT_MILLIS} ms. Pass: every thread wakes with
 * {@code SocketTimeoutException} within the liveness bound of {@value #LIVENESS_SECONDS} s (a
 * bound against hanging, not a timing assertion); how late each woke after its timeout (the
 * overrun) is reported, not asserted.
 *
 * <p>Checked to fail with {@code -Dfaults.break=true}, which gives the child timeouts of 10 min
 * instead: no thread wakes within the liveness bound and the row fails.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PartitionTimeoutsFaultRow {

    private static final int CONNECTIONS = 40;
    private static final int TIMEOUT_MILLIS = 2000;
    private static final int LIVENESS_SECONDS = 60;

    @Test
    void timeoutsFireAcrossAPartition() throws Exception {
        long timeout = Boolean.getBoolean("faults.break") ? 600_000 : TIMEOUT_MILLIS;
        TreeMap<String, Integer> outcomes = new TreeMap<>();
        List<Long> overruns = new ArrayList<>();
        String failure = "";
        try (LinkedNamespaces namespaces = LinkedNamespaces.create("tcpscope-pt");
             ChildProcess peer = PartitionPeer.start(namespaces.b(), LinkedNamespaces.ADDRESS_B, CONNECTIONS)) {
            int port = Integer.parseInt(peer.expect("LISTENING").split(" ")[1]);
            try (ChildProcess child = ChildJvm.of(PartitionChild.class).twoCarriers()
                    .jvmOptions("-XX:TieredStopAtLevel=1")
                    .behind(namespaces.a().exec().toArray(String[]::new))
                    .start(LinkedNamespaces.ADDRESS_B, Integer.toString(port), "timeouts",
                            Integer.toString(CONNECTIONS), Long.toString(timeout))) {
                child.expect("CONNECTED");
                peer.expect("ACCEPTED");
                namespaces.b().partitionTcpPort(port);
                child.sendLine("go");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LIVENESS_SECONDS);
                for (int i = 0; i < CONNECTIONS; i++) {
                    Duration left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
                    String[] woke;
                    try {
                        woke = child.expect("WOKE", left).split(" ");
                    } catch (AssertionError e) {
                        failure = (CONNECTIONS - i) + " threads did not wake within " + LIVENESS_SECONDS + " s";
                        break;
                    }
                    outcomes.merge(woke[2] + "/" + woke[3] + " " + woke[4], 1, Integer::sum);
                    overruns.add(Long.parseLong(woke[5]));
                }
            }
        }
        long socketTimeouts = outcomes.entrySet().stream().filter(e -> e.getKey().endsWith(" SocketTimeoutException"))
                .mapToLong(e -> e.getValue()).sum();
        boolean pass = failure.isEmpty() && socketTimeouts == CONNECTIONS;
        List<Long> sorted = overruns.stream().sorted().toList();
        FaultReport.row("partition during read/write", pass, String.format(
                "%d/%d threads woke with SocketTimeoutException (timeout %d ms, liveness bound %d s)%s; overrun after"
                        + " the timeout: median %s ms, max %s ms; %s",
                socketTimeouts, CONNECTIONS, timeout, LIVENESS_SECONDS, failure.isEmpty() ? "" : " - " + failure,
                sorted.isEmpty() ? "-" : sorted.get(sorted.size() / 2), sorted.isEmpty() ? "-" : sorted.getLast(),
                outcomes));
        String why = failure + " " + outcomes;
        assertTrue(pass, () -> why);
    }
}
