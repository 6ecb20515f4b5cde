package dev.tcpscope.oracle;

import dev.tcpscope.testing.ChildProcess;
import org.opentest4j.AssertionFailedError;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The Python peer: one long-lived {@code python3} process running {@code oracle_peer.py}, which
 * serves the scenarios one after another (starting a process per scenario would cost more than
 * most scenarios take). It takes commands on stdin and prints events on stdout, one line each,
 * tagged with the scenario's id; lines are kept until someone asks for them.
 */
final class PythonPeerDriver implements PeerDriver {

    private static final Duration COMMAND_REPLY = Duration.ofSeconds(10);

    private final ChildProcess process;
    private final List<String> lines = new ArrayList<>(); // guarded by this: events not yet claimed

    private PythonPeerDriver(ChildProcess process) {
        this.process = process;
    }

    /** Starts the process and waits until it is ready. */
    static PythonPeerDriver start() throws IOException {
        Path script = Files.createTempFile("tcpscope-oracle-peer", ".py");
        script.toFile().deleteOnExit();
        try (InputStream in = PythonPeerDriver.class.getResourceAsStream("oracle_peer.py")) {
            if (in == null) {
                throw new IOException("test resource dev/tcpscope/oracle/oracle_peer.py not found");
            }
            Files.write(script, in.readAllBytes());
        }
        ChildProcess process = ChildProcess.start("the oracle's Python peer", List.of("python3", "-u", script.toString()));
        try {
            process.expect("READY", COMMAND_REPLY);
        } catch (AssertionFailedError e) {
            process.close();
            throw new IOException("the Python peer did not start: " + e.getMessage());
        }
        return new PythonPeerDriver(process);
    }

    /** {@return whether the process still runs (a dead one is replaced by the runner)} */
    boolean alive() {
        return process.process().isAlive();
    }

    @Override
    public PeerSession listen(String id, PeerPlan plan) throws IOException {
        forget();
        send("LISTEN " + id + " " + plan.words());
        String port = await(id, List.of("PORT"), COMMAND_REPLY);
        if (port == null) {
            throw new IOException("the Python peer did not listen: " + process.describe());
        }
        return new Session(id, Integer.parseInt(port.split(" ")[2]));
    }

    @Override
    public PeerSession connect(String id, int port, PeerPlan plan) {
        forget();
        send("CONNECT " + id + " " + port + " " + plan.words());
        return new Session(id, -1);
    }

    /** Sends a command; a process that died meanwhile is noticed by the waits (and replaced by the runner). */
    private void send(String line) {
        try {
            process.sendLine(line);
        } catch (java.io.UncheckedIOException died) {
            // alive() is false now
        }
    }

    /** Drops events of earlier scenarios nobody asked for. */
    private synchronized void forget() {
        lines.clear();
    }

    /**
     * Waits for the first line of scenario {@code id} whose word is one of {@code words}, and
     * removes it; other lines stay for later.
     *
     * @return the line, or {@code null} after {@code timeout}
     */
    private synchronized String await(String id, List<String> words, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                String line = it.next();
                String[] f = line.split(" ", 3);
                if (f.length >= 2 && f[1].equals(id) && words.contains(f[0])) {
                    it.remove();
                    return line;
                }
            }
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0 || !alive()) {
                return null;
            }
            try {
                lines.add(process.nextLine(Duration.ofNanos(remaining)));
            } catch (AssertionFailedError timedOutOrEnded) {
                return null;
            }
        }
    }

    @Override
    public void close() {
        process.close();
    }

    private final class Session implements PeerSession {
        private final String id;
        private final int port;

        Session(String id, int port) {
            this.id = id;
            this.port = port;
        }

        @Override
        public int port() {
            return port;
        }

        @Override
        public boolean awaitConnected(Duration timeout) {
            return awaitEvent("CONNECTED", timeout);
        }

        @Override
        public boolean awaitResetSent(Duration timeout) {
            return awaitEvent("RESET_SENT", timeout);
        }

        /** Waits for {@code word}; a DONE first means the connection ended without it. */
        private boolean awaitEvent(String word, Duration timeout) {
            String line = await(id, List.of(word, "DONE"), timeout);
            if (line != null && line.startsWith("DONE")) {
                synchronized (PythonPeerDriver.this) {
                    lines.addFirst(line); // for awaitDone
                }
                return false;
            }
            return line != null;
        }

        @Override
        public void resume() {
            send("RESUME " + id);
        }

        @Override
        public PeerReport awaitDone(Duration timeout) {
            String line = await(id, List.of("DONE"), timeout);
            if (line == null && alive()) {
                send("CANCEL " + id); // a hung peer: end it, so the next scenario starts clean
                await(id, List.of("DONE"), COMMAND_REPLY);
            }
            if (line == null && !alive()) {
                // It died (a bug of the peer): say how, as an error the oracle reports.
                String stderr = process.stderr().strip();
                return new PeerReport(PeerReport.Seen.ERROR, 0, 0, 0, false, "-", "the Python peer died: "
                        + stderr.substring(Math.max(0, stderr.length() - 600)).replace('\n', ' '));
            }
            return line == null ? null : PeerReport.parse(line);
        }
    }
}
