package dev.tcpscope.examples;

import dev.tcpscope.peers.PythonPeer;
import dev.tcpscope.testing.ChildProcess;
import dev.tcpscope.testing.OpenSockets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Issue 10, section 1, end to end: the {@link Relay} example passes an upstream's reset on to
 * its client as a reset, never as a clean end, even when the relay's two pumps race for the
 * kernel's one report of it. The pump reading the upstream must not get -1 (and pass a FIN on)
 * because the pump writing to the upstream took the ECONNRESET.
 *
 * <p>One Python process ({@code relay_reset_client.py}) plays the client and the upstream for
 * {@value #RUNS} runs: the client sends a large request that the upstream never reads (so the
 * relay's pump towards the upstream parks on a full send buffer), the upstream sends 1,000 bytes
 * of a response (every other run; none in the others) and resets. The client, one thread for
 * its socket, must see those bytes (or fewer: the relay aborts what it has not yet sent) and
 * then ConnectionResetError; never EOF.
 *
 * <p>Checked to fail against the unfixed code (the relay's pump reading the upstream got -1 when
 * the other pump's send had taken the ECONNRESET, and passed a FIN on): the client saw a clean
 * FIN in 5 of 1,000 runs (4 of them runs without a partial response), and 2 of 1,000 in another
 * run. The class runs in about 4 s.
 *
 * <p>Since the relay moves bytes with splice(2) (issue 15) it also checks LostResetCheck: Linux's
 * splice_to_socket can hand the reset to a splice that then returns a byte count, and no call ever
 * reports it. With the check disabled the client saw FIN in 19 of 1,000 runs, and 3 in another;
 * with it, 0 in three runs.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RelayResetRaceTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final int RUNS = 1_000;

    @Test
    void anUpstreamResetNeverReachesTheClientAsFin() throws Exception {
        Path script = PythonPeer.copyOfScript(RelayResetRaceTest.class, "relay_reset_client.py");
        AtomicInteger sessions = new AtomicInteger();
        AtomicInteger succeeded = new AtomicInteger();
        try (ChildProcess python = ChildProcess.start("the Python client and upstream",
                List.of("python3", "-u", script.toString()))) {
            int upstreamPort = Integer.parseInt(python.expect("UPSTREAM").split(" ")[1]);
            InetSocketAddress upstream = new InetSocketAddress(InetAddress.getLoopbackAddress(), upstreamPort);
            try (Relay relay = Relay.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), upstream,
                    session -> {
                        sessions.incrementAndGet();
                        if (session.succeeded()) {
                            succeeded.incrementAndGet();
                        }
                    })) {
                python.sendLine("RELAY " + relay.port() + " " + RUNS);
                List<String> bad = new ArrayList<>();
                String line;
                while ((line = python.nextLine(Duration.ofSeconds(150))).startsWith("BAD ")) {
                    bad.add(line);
                }
                if (!line.startsWith("RESULT ")) {
                    throw new AssertionError("expected RESULT from the Python process, got: " + line + "; "
                            + python.describe());
                }
                Map<String, Integer> counts = counts(line);
                String summary = getClass().getSimpleName() + ": " + line.substring("RESULT ".length())
                        + "; relay sessions ended " + sessions.get() + ", succeeded " + succeeded.get();
                System.out.println(summary);
                bad.forEach(System.out::println);
                assertEquals(RUNS, counts.get("runs"), summary);
                assertEquals(0, counts.get("fin"), () -> summary + "\n" + String.join("\n", bad));
                assertEquals(0, counts.get("other"), () -> summary + "\n" + String.join("\n", bad));
                assertEquals(RUNS, counts.get("rst") + counts.get("rst_short"), summary);
                // The scenario itself: in every run the relay stopped reading the client, its pump
                // towards the upstream being parked on a full send buffer when the upstream reset.
                assertEquals(0, counts.get("unstalled"), summary);
            }
            // Relay.close() waited for every session; none may count as a success: the upstream reset.
            assertEquals(RUNS, sessions.get(), "relay sessions that ended");
            assertEquals(0, succeeded.get(), "relay sessions that succeeded although the upstream reset");
            assertEquals(0, python.awaitExit(), python::describe);
        }
    }

    /** {@return the {@code name=count} pairs of a RESULT line} */
    private static Map<String, Integer> counts(String resultLine) {
        Map<String, Integer> counts = new HashMap<>();
        for (String pair : resultLine.substring("RESULT ".length()).split(" ")) {
            String[] nameAndCount = pair.split("=");
            counts.put(nameAndCount[0], Integer.parseInt(nameAndCount[1]));
        }
        return counts;
    }
}
