package dev.tcpscope.peers;

import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.ChildProcess;
import org.opentest4j.AssertionFailedError;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A peer in another process and another language: {@code peer.py} (a test resource) run by
 * {@code python3}. It connects to a port on 127.0.0.1 and prints what it saw, one line per event
 * (see the script). {@link #close()} resumes it if it was stopped, and kills it.
 */
public final class PythonPeer implements AutoCloseable {

    private static volatile Path script;

    private final ChildProcess process;

    private PythonPeer(ChildProcess process) {
        this.process = process;
    }

    /**
     * Starts {@code peer.py PORT OPTIONS...}: it connects to 127.0.0.1:{@code port} at once.
     * Options: {@code --rcvbuf N}, {@code --send N}, {@code --wait}, {@code --hold}.
     */
    public static PythonPeer start(int port, String... options) throws IOException {
        List<String> command = new ArrayList<>(List.of("python3", "-u", script().toString(), Integer.toString(port)));
        command.addAll(List.of(options));
        return new PythonPeer(ChildProcess.start("the Python peer", command));
    }

    private static Path script() throws IOException {
        Path s = script;
        if (s == null) {
            synchronized (PythonPeer.class) {
                s = script;
                if (s == null) {
                    script = s = copyOfScript(PythonPeer.class, "peer.py");
                }
            }
        }
        return s;
    }

    /**
     * {@return a temporary file (deleted when the JVM exits) holding the test resource
     * {@code name} of {@code anchor}'s package}, for {@code python3} to run: a resource of the
     * test module is not a file python can open.
     */
    public static Path copyOfScript(Class<?> anchor, String name) throws IOException {
        Path s = Files.createTempFile("tcpscope-" + name.replace(".py", ""), ".py");
        s.toFile().deleteOnExit();
        try (InputStream in = anchor.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("test resource " + anchor.getPackageName().replace('.', '/') + "/" + name
                        + " not found");
            }
            Files.write(s, in.readAllBytes());
        }
        return s;
    }

    /** {@return the process id} */
    public long pid() {
        return process.pid();
    }

    /** {@return the next line, which must start with {@code word}} */
    public String expect(String word) {
        return process.expect(word);
    }

    /** Waits for {@code READY <port>} and returns the peer's local port. */
    public int awaitReady() {
        return Integer.parseInt(expect("READY").split(" ")[1]);
    }

    /** Waits for the {@code EOF ...} or {@code RST ...} line. */
    public Received awaitReceived() {
        String line = process.nextLine();
        try {
            return Received.parsePython(line);
        } catch (IllegalArgumentException e) {
            throw new AssertionFailedError(e.getMessage() + "; " + process.describe());
        }
    }

    /** Sends a line to the script's stdin (it waits for one with --wait and --hold). */
    public void sendLine(String line) {
        process.sendLine(line);
    }

    /** Freezes the process (SIGSTOP) and waits until the kernel reports it stopped. */
    public void stop() throws IOException, InterruptedException {
        signal("STOP");
        Await.until("the Python peer " + pid() + " is stopped", () -> "T".equals(state()));
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
    public int awaitExit() {
        return process.awaitExit();
    }

    /** {@return what it printed so far, for failure messages} */
    public String describe() {
        return process.describe();
    }

    /** Resumes (in case it was stopped) and kills the process, and waits for it to go. */
    @Override
    public void close() {
        try {
            if (process.process().isAlive()) {
                resume(); // SIGKILL ends a stopped process too; resuming first is only tidy
            }
        } catch (IOException exitedMeanwhile) {
            // the kill below is harmless
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // and kill it all the same
        }
        process.close();
    }
}
