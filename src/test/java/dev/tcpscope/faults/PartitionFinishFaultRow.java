package dev.tcpscope.faults;

import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;
import dev.tcpscope.testing.LinkedNamespaces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fault row "partition during finish()": a tcpscope connection ({@link PartitionChild}, namespace
 * {@code a}) to a Python peer ({@code partition_peer.py}, namespace {@code b}, which reads
 * everything) across a veth pair. The connection writes 64 KiB (delivered), then an nftables rule
 * in {@code b} cuts the peer's port both ways, then it writes 64 KiB more and calls
 * {@code finish(3 s)}. Pass: not delivered, with the unacknowledged byte count (64 KiB and the FIN,
 * at least 64 KiB); the rule is removed, the peer sends a byte, and its reader sees RST after
 * exactly the first 64 KiB. Repeated {@value #TRIALS} times.
 *
 * <p>Checked to fail with {@code -Dfaults.break=true}, which never installs the rule: the finish
 * is then delivered, the peer reads 128 KiB and EOF, and the row fails.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PartitionFinishFaultRow {

    private static final int TRIALS = 3;

    @Test
    void finishAcrossAPartitionAbortsByItsDeadlineAndThePeerGetsReset() throws Exception {
        boolean breakIt = Boolean.getBoolean("faults.break");
        StringBuilder figures = new StringBuilder();
        boolean pass = true;
        String failure = "";
        for (int trial = 0; trial < TRIALS; trial++) {
            try (LinkedNamespaces namespaces = LinkedNamespaces.create("tcpscope-pf");
                 ChildProcess peer = PartitionPeer.start(namespaces.b(), LinkedNamespaces.ADDRESS_B, 1)) {
                int port = Integer.parseInt(peer.expect("LISTENING").split(" ")[1]);
                try (ChildProcess child = ChildJvm.of(PartitionChild.class).twoCarriers()
                        .jvmOptions("-XX:TieredStopAtLevel=1")
                        .behind(namespaces.a().exec().toArray(String[]::new))
                        .start(LinkedNamespaces.ADDRESS_B, Integer.toString(port), "finish")) {
                    peer.expect("ACCEPTED");
                    child.expect("WROTE");
                    if (!breakIt) {
                        namespaces.b().partitionTcpPort(port);
                    }
                    child.sendLine("go");
                    String[] finished = child.expect("FINISHED", Duration.ofSeconds(60)).split(" ");
                    boolean delivered = Boolean.parseBoolean(finished[1]);
                    long unacknowledged = Long.parseLong(finished[2]);
                    if (!breakIt) {
                        namespaces.b().removeRules();
                    }
                    String end;
                    if (breakIt) {
                        end = peer.expect("END", Duration.ofSeconds(60));
                    } else {
                        peer.sendLine("poke");
                        // Two lines, in either order: the poke's send, and the reader's end (the RST it drew).
                        String first = peer.nextLine(Duration.ofSeconds(60));
                        String second = peer.nextLine(Duration.ofSeconds(60));
                        end = first.startsWith("END") ? first : second;
                    }
                    boolean ok = !delivered && unacknowledged >= PartitionChild.HALF
                            && end.equals("END 0 RST " + PartitionChild.HALF);
                    pass &= ok;
                    if (!ok) {
                        failure += " trial " + trial + ": " + String.join(" ", finished) + "; peer: " + end;
                    }
                    figures.append(String.format("%s#%d: finish %s s (deadline %d s), delivered=%s, unacknowledged %,d B,"
                                    + " peer then read %s",
                            figures.isEmpty() ? "" : "; ", trial + 1, finished[3],
                            PartitionChild.FINISH_DEADLINE.toSeconds(), delivered, unacknowledged,
                            end.split(" ")[2] + " after " + end.split(" ")[3] + " B"));
                }
            }
        }
        FaultReport.row("partition during finish()", pass, figures.toString());
        String why = failure;
        assertTrue(pass, () -> "not as expected:" + why);
    }
}
