package dev.tcpscope.oracle;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Await;
import org.opentest4j.AssertionFailedError;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs one scenario within a bounded time: wires both ends, runs the program's path on a thread
 * of its own, lets a stopped peer read again once our side has ended, collects the peer's report
 * and the relays' sessions, and checks that every socket of this process is closed again.
 */
final class ScenarioRunner implements AutoCloseable {

    /** Longest a program may run: far beyond any scenario (finish timeouts are 5 s at most). */
    static final Duration PROGRAM_GUARD = Duration.ofSeconds(45);
    /** How long the peer may take to report once our side has ended. */
    static final Duration PEER_GUARD = PeerPlan.GUARD.plusSeconds(5);
    private static final Duration SETTLE = Duration.ofSeconds(10);

    private final AtomicLong ids = new AtomicLong();
    private final JdkPeerDriver jdk = new JdkPeerDriver();
    private PythonPeerDriver python;
    private int baselineSockets = -1;

    /** Starts the Python peer and takes the baseline of open sockets. */
    static ScenarioRunner start() throws IOException {
        ScenarioRunner runner = new ScenarioRunner();
        runner.python = PythonPeerDriver.start();
        OpenSockets.initJdkNetworking();
        return runner;
    }

    /** Runs {@code s}; whatever goes wrong is in the observation (a harness problem), never thrown. */
    Observation run(Scenario s) {
        ProgramRecord record = new ProgramRecord();
        try {
            return run(s, record);
        } catch (IOException | RuntimeException | AssertionError e) {
            record.harnessProblem("the scenario could not run: " + e);
            return new Observation(s, record, null);
        }
    }

    private Observation run(Scenario s, ProgramRecord record) throws IOException {
        if (!python.alive()) {
            python.close();
            python = PythonPeerDriver.start();
        }
        if (baselineSockets < 0) {
            baselineSockets = OpenSockets.count();
        }
        PeerReport peer;
        PeerDriver driver = s.peerKind() == Scenario.PeerKind.PYTHON && !s.tls() ? python : jdk; // TLS: the JDK's TLS peer
        try (Wiring wiring = Wiring.open(s, driver, "s" + ids.incrementAndGet())) {
            ProgramContext cx = new ProgramContext(s, wiring, record);
            Thread program = Thread.ofVirtual().name("oracle-program").start(() -> runPath(cx));
            if (!joinQuietly(program, PROGRAM_GUARD)) {
                record.harnessProblem("the program did not end within " + PROGRAM_GUARD.toSeconds() + " s:\n"
                        + stack(program));
                TcpConnection c = record.connection();
                if (c != null) {
                    c.abort();
                }
                program.interrupt();
                joinQuietly(program, SETTLE);
            }
            if (PeerPlan.of(s).stops()) {
                wiring.peer().resume();
            }
            peer = wiring.peer().awaitDone(PEER_GUARD);
            record.relaySessions(wiring.relays().awaitSessions(SETTLE)); // one that never ends: the oracle says so
        }
        checkSockets(record);
        return new Observation(s, record, peer);
    }

    private static void runPath(ProgramContext cx) {
        switch (cx.scenario().path().layer()) {
            case CONNECTION -> ConnectionPaths.run(cx);
            case SCOPE -> ScopePaths.run(cx);
            case SERVER -> ServerPaths.run(cx);
        }
    }

    /** Every socket of this process (ours, the relays', the JDK peer's) must be closed again. */
    private void checkSockets(ProgramRecord record) {
        try {
            Await.until(() -> "", SETTLE, () -> OpenSockets.count() == baselineSockets);
        } catch (AssertionFailedError e) {
            record.harnessProblem("sockets left open: " + OpenSockets.count() + " instead of " + baselineSockets
                    + ": " + OpenSockets.list());
            baselineSockets = OpenSockets.count(); // report a leak once, not in every later scenario
        }
    }

    private static String stack(Thread thread) {
        StringBuilder b = new StringBuilder();
        for (StackTraceElement e : thread.getStackTrace()) {
            b.append("        at ").append(e).append('\n');
        }
        return b.toString();
    }

    private static boolean joinQuietly(Thread thread, Duration timeout) {
        try {
            return thread.join(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() {
        jdk.close();
        if (python != null) {
            python.close();
        }
    }
}
