package dev.tcpscope.faults;

import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Fault row "process death": a child JVM ({@link DeathChild}) holds {@value #CONNECTIONS}
 * connections, each in its own scope with a subtask parked mid-write (the peers, JDK sockets in
 * this JVM with a 16 KiB receive buffer, do not read yet); it is SIGKILLed {@value #KILLS} times,
 * then made to call {@code System.exit} and {@code Runtime.halt}. Every peer must then read RST:
 * 250/250, 50/50, 50/50.
 *
 * <p>Checked to fail by running the child with {@code clear-linger} ({@code -Dfaults.break=true}),
 * which clears SO_LINGER on every connection: the peers then read every queued byte and EOF, and
 * the row fails with 0/250 RST.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ProcessDeathFaultRow {

    private static final int CONNECTIONS = 50;
    private static final int KILLS = 5;
    private static final int PEER_RECEIVE_BUFFER = 16 * 1024;

    @Test
    void everyPeerOfADeadProcessReadsReset() throws Exception {
        int killed = 0;
        long bytes = 0;
        int[] resets = new int[3];
        List<String> others = new ArrayList<>();
        for (int round = 0; round < KILLS + 2; round++) {
            String mode = round < KILLS ? "kill" : round == KILLS ? "exit" : "halt";
            int expectedStatus = mode.equals("kill") ? 128 + 9 : mode.equals("exit") ? DeathChild.EXIT_STATUS
                    : DeathChild.HALT_STATUS;
            try (JdkPeer.Server server = JdkPeer.Server.open(PEER_RECEIVE_BUFFER);
                 ChildProcess child = ChildJvm.of(DeathChild.class).twoCarriers()
                         .jvmOptions("-XX:TieredStopAtLevel=1", "-Xmx128m")
                         .start(Integer.toString(server.port()), Integer.toString(CONNECTIONS), mode,
                                 Boolean.getBoolean("faults.break") ? "clear-linger" : "keep")) {
                List<JdkPeer> peers = new ArrayList<>();
                try {
                    for (int i = 0; i < CONNECTIONS; i++) {
                        peers.add(server.accept());
                    }
                    child.expect("READY");
                    if (mode.equals("kill")) {
                        child.process().destroyForcibly();
                    } else {
                        child.sendLine("die");
                    }
                    assertEquals(expectedStatus, child.awaitExit(), child::describe);
                    List<CompletableFuture<Seen>> seen = peers.stream().map(JdkPeer::readToEndAsync).toList();
                    for (CompletableFuture<Seen> s : seen) {
                        Seen got = s.get(90, TimeUnit.SECONDS);
                        bytes += got.data().length;
                        if (got.isReset()) {
                            resets[round < KILLS ? 0 : round - KILLS + 1]++;
                        } else {
                            others.add(mode + ": " + got.end() + " after " + got.data().length + " bytes");
                        }
                    }
                    if (mode.equals("kill")) {
                        killed++;
                    }
                } finally {
                    peers.forEach(JdkPeer::close);
                }
            }
        }
        boolean pass = resets[0] == KILLS * CONNECTIONS && resets[1] == CONNECTIONS && resets[2] == CONNECTIONS;
        FaultReport.row("process death", pass, String.format(
                "SIGKILL x%d: %d/%d RST; System.exit: %d/%d RST; Runtime.halt: %d/%d RST; "
                        + "%d connections per child, each parked mid-write in its own scope; peers read %.1f MiB before RST",
                killed, resets[0], KILLS * CONNECTIONS, resets[1], CONNECTIONS, resets[2], CONNECTIONS, CONNECTIONS,
                bytes / 1048576.0));
        assertEquals(List.of(), others.subList(0, Math.min(10, others.size())), "peers that did not read RST");
        assertEquals(true, pass);
    }
}
