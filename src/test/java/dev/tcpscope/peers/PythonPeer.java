package dev.tcpscope.peers;

import org.opentest4j.AssertionFailedError;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A peer in another process and another language: {@code peer.py} (a test resource) run by
 * {@code python3}. It connects to a port on 127.0.0.1 and prints what it saw, one line per event
 * (see the script). {@link #close()} resumes it if it was stopped, and kills it.
 */
public final class PythonPeer implements AutoCloseable {

    /** How long to wait for any one line of the script; generous for a loaded 2-core machine. */
    public static final Duration LINE_TIMEOUT = Duration.ofSeconds(30);

    private static final String EOF_MARK = "\u0000end of output";
    private static volatile Path script;

    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();
    private final StringBuffer stderr = new StringBuffer();
    private final Writer stdin;

    private PythonPeer(Process process) {
        this.process = process;
        this.stdin = process.outputWriter(StandardCharsets.UTF_8);
        pump(process.getInputStream(), true);
        pump(process.getErrorStream(), false);
    }

    /**
     * Starts {@code peer.py PORT OPTIONS...}: it connects to 127.0.0.1:{@code port} at once.
     * Options: {@code --rcvbuf N}, {@code --send N}, {@code --wait}, {@code --hold}.
     */
    public static PythonPeer start(int port, String... options) throws IOException {
        List<String> command = new ArrayList<>(List.of("python3", "-u", script().toString(), Integer.toString(port)));
        command.addAll(List.of(options));
        return new PythonPeer(new ProcessBuilder(command).start());
    }

    private static Path script() throws IOException {
        Path s = script;
        if (s == null) {
            synchronized (PythonPeer.class) {
                s = script;
                if (s == null) {
                    s = Files.createTempFile("tcpscope-peer", ".py");
                    s.toFile().deleteOnExit();
                    try (InputStream in = PythonPeer.class.getResourceAsStream("peer.py")) {
                        if (in == null) {
                            throw new IOException("test resource dev/tcpscope/peers/peer.py not found");
                        }
                        Files.write(s, in.readAllBytes());
                    }
                    script = s;
                }
            }
        }
        return s;
    }

    private void pump(InputStream stream, boolean isStdout) {
        Thread.ofPlatform().daemon().name("python-peer-" + (isStdout ? "out" : "err")).start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (isStdout) {
                        lines.add(line);
                    } else {
                        stderr.append(line).append('\n');
                    }
                }
            } catch (IOException ignored) {
                // the process was killed
            } finally {
                if (isStdout) {
                    lines.add(EOF_MARK);
                }
            }
        });
    }

    /** {@return the process id} */
    public long pid() {
        return process.pid();
    }

    /** {@return the next line of output, waiting at most {@link #LINE_TIMEOUT}} */
    public String nextLine() {
        String line;
        try {
            line = lines.poll(LINE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionFailedError("interrupted waiting for the Python peer");
        }
        if (line == null || line.equals(EOF_MARK)) {
            if (line != null) {
                lines.add(EOF_MARK);
            }
            throw new AssertionFailedError("the Python peer " + (line == null ? "printed nothing for "
                    + LINE_TIMEOUT.toSeconds() + " s" : "ended its output") + "; lines so far " + seen
                    + ", stderr:\n" + stderr);
        }
        seen.add(line);
        return line;
    }

    /** {@return the next line, which must start with {@code word}} */
    public String expect(String word) {
        String line = nextLine();
        if (!line.equals(word) && !line.startsWith(word + " ")) {
            throw new AssertionFailedError("expected a line starting with " + word + " from the Python peer, got: "
                    + line + "; stderr:\n" + stderr);
        }
        return line;
    }

    /** Waits for {@code READY <port>} and returns the peer's local port. */
    public int awaitReady() {
        return Integer.parseInt(expect("READY").split(" ")[1]);
    }

    /** Waits for the {@code EOF ...} or {@code RST ...} line. */
    public Received awaitReceived() {
        String line = nextLine();
        try {
            return Received.parsePython(line);
        } catch (IllegalArgumentException e) {
            throw new AssertionFailedError(e.getMessage() + "; stderr:\n" + stderr);
        }
    }

    /** Sends a line to the script's stdin (it waits for one with --wait and --hold). */
    public void sendLine(String line) {
        try {
            stdin.write(line + "\n");
            stdin.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Freezes the process (SIGSTOP) and waits until the kernel reports it stopped. */
    public void stop() throws IOException, InterruptedException {
        signal("STOP");
        dev.tcpscope.testing.Await.until("the Python peer " + pid() + " is stopped", () -> "T".equals(state()));
    }

    /** Resumes the process (SIGCONT). */
    public void resume() throws IOException, InterruptedException {
        signal("CONT");
    }

    /** {@return the process state letter from /proc/PID/stat, e.g. "S", "T"; "" once it is gone} */
    public String state() {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid() + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        } catch (IOException e) {
            return "";
        }
    }

    private void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid())).redirectErrorStream(true).start();
        String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + name + " " + pid() + " failed: " + out);
        }
    }

    /** Waits for the process to exit by itself; {@return its exit code} */
    public int awaitExit() throws InterruptedException {
        if (!process.waitFor(LINE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionFailedError("the Python peer did not exit; lines " + seen + ", stderr:\n" + stderr);
        }
        return process.exitValue();
    }

    /** {@return what it wrote to stderr so far} */
    public String stderr() {
        return stderr.toString();
    }

    /** Resumes (in case it was stopped) and kills the process, and waits for it to go. */
    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                resume(); // SIGKILL ends a stopped process too; resuming first is only tidy
            }
        } catch (IOException exitedMeanwhile) {
            // the kill below is harmless
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // and kill it all the same
        }
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
