package dev.tcpscope.testing;

import org.opentest4j.AssertionFailedError;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A process the test talks to in lines: it takes commands on stdin and prints one line per event
 * on stdout ("READY 4242", "STATS ..."), so the test and the child step together without
 * guessing at timing. Its stderr is collected for failure messages. {@link #close()} kills it.
 *
 * <p>Started for child JVMs by {@link ChildJvm}, and for other programs (e.g. a Python peer) with
 * {@link #start}. Every wait is bounded ({@link #TIMEOUT} unless told), and a child that ends or
 * stays silent fails the wait with what it printed, instead of hanging the test.
 */
public final class ChildProcess implements AutoCloseable {

    /** The default bound of a wait for a line or for the exit; only a hung child comes near it. */
    public static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** Queued after the last line of stdout (compared by identity). */
    private static final String END = new String("end of output");

    private final String name;
    private final Process process;
    private final Writer stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> stdout = Collections.synchronizedList(new ArrayList<>());
    private final StringBuffer stderr = new StringBuffer();
    private final Thread stdoutPump;
    private final Thread stderrPump;

    private ChildProcess(String name, Process process) {
        this.name = name;
        this.process = process;
        this.stdin = process.outputWriter(StandardCharsets.UTF_8);
        // Platform threads: a blocking pipe read must not hold one of the virtual-thread carriers.
        this.stdoutPump = pump(process.getInputStream(), "stdout", line -> {
            stdout.add(line);
            lines.add(line);
        });
        this.stderrPump = pump(process.getErrorStream(), "stderr", line -> stderr.append(line).append('\n'));
    }

    /**
     * Starts {@code command}.
     *
     * @param name names the child in failure messages, e.g. "the Python peer"
     */
    public static ChildProcess start(String name, List<String> command) throws IOException {
        return new ChildProcess(name, new ProcessBuilder(command).start());
    }

    private interface LineSink {
        void accept(String line);
    }

    private Thread pump(InputStream stream, String what, LineSink sink) {
        return Thread.ofPlatform().daemon().name("child-" + process.pid() + "-" + what).start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    sink.accept(line);
                }
            } catch (IOException ignored) {
                // the process was killed
            } finally {
                if (what.equals("stdout")) {
                    lines.add(END);
                }
            }
        });
    }

    /** {@return the process, e.g. to signal it} */
    public Process process() {
        return process;
    }

    /** {@return the process id} */
    public long pid() {
        return process.pid();
    }

    /** {@return the next line of stdout, waiting at most {@link #TIMEOUT}} */
    public String nextLine() {
        return nextLine(TIMEOUT);
    }

    /** {@return the next line of stdout, waiting at most {@code timeout}} */
    public String nextLine(Duration timeout) {
        String line;
        try {
            line = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionFailedError("interrupted waiting for a line of " + name);
        }
        if (line == null) {
            throw new AssertionFailedError(name + " printed nothing for " + timeout.toSeconds() + " s; " + describe());
        }
        if (line == END) {
            lines.add(END); // every later wait fails the same way
            throw new AssertionFailedError(name + " ended its output; " + describe());
        }
        return line;
    }

    /** {@return the next line, which must be {@code word} or start with {@code word} and a space} */
    public String expect(String word) {
        return expect(word, TIMEOUT);
    }

    /** {@link #expect(String)}, waiting at most {@code timeout} for the line. */
    public String expect(String word, Duration timeout) {
        String line = nextLine(timeout);
        if (!line.equals(word) && !line.startsWith(word + " ")) {
            throw new AssertionFailedError("expected a line starting with " + word + " from " + name + ", got: " + line
                    + "; " + describe());
        }
        return line;
    }

    /** Sends a line to the child's stdin. */
    public void sendLine(String line) {
        try {
            stdin.write(line + "\n");
            stdin.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to " + name + "; " + describe(), e);
        }
    }

    /** Closes the child's stdin and waits at most {@link #TIMEOUT} for it to exit; {@return its exit status} */
    public int awaitExit() {
        return awaitExit(TIMEOUT);
    }

    /**
     * Closes the child's stdin (end of its commands) and waits at most {@code timeout} for it to
     * exit, and for its output to be read to the end ({@link #stdout()}, {@link #stderr()}).
     *
     * @return its exit status
     */
    public int awaitExit(Duration timeout) {
        try {
            stdin.close();
        } catch (IOException ignored) {
            // it has exited already
        }
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    || !stdoutPump.join(timeout) || !stderrPump.join(timeout)) {
                throw new AssertionFailedError(name + " did not exit within " + timeout.toSeconds() + " s; "
                        + describe());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionFailedError("interrupted waiting for " + name + " to exit");
        }
        return process.exitValue();
    }

    /** {@return every line printed on stdout so far (after {@link #awaitExit}: all of them)} */
    public List<String> stdout() {
        synchronized (stdout) {
            return List.copyOf(stdout);
        }
    }

    /** {@return what it printed on stderr so far} */
    public String stderr() {
        return stderr.toString();
    }

    /** {@return for failure messages: the pid, whether it runs, its stdout and the tail of its stderr} */
    public String describe() {
        String state = process.isAlive() ? "running" : "exited with " + process.exitValue();
        List<String> err = stderr().lines().toList();
        return name + " (pid " + process.pid() + ") " + state + "; stdout " + stdout() + "; stderr"
                + (err.size() > 40 ? " (last 40 lines)" : "") + ":\n"
                + String.join("\n", err.subList(Math.max(0, err.size() - 40), err.size()));
    }

    /** Kills the process if it still runs (SIGKILL), and waits for it to go. */
    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return name + " (pid " + process.pid() + ")";
    }
}
