package dev.tcpscope.peers;

import dev.tcpscope.TcpConnection;
import org.opentest4j.AssertionFailedError;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM running a main class from the test classes, with tcpscope on the class path (it
 * works there as on the module path): {@code --enable-native-access=ALL-UNNAMED}.
 */
public final class ChildJvm implements AutoCloseable {

    private static final String EOF_MARK = "\u0000end of output";

    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuffer stderr = new StringBuffer();
    private final List<String> seen = new ArrayList<>();
    private final Writer stdin;

    private ChildJvm(Process process) {
        this.process = process;
        this.stdin = process.outputWriter(StandardCharsets.UTF_8);
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = process.inputReader(StandardCharsets.UTF_8)) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // killed
            } finally {
                lines.add(EOF_MARK);
            }
        });
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    stderr.append(line).append('\n');
                }
            } catch (IOException ignored) {
                // killed
            }
        });
    }

    /** Starts {@code mainClass} with {@code args} in a new JVM. */
    public static ChildJvm start(Class<?> mainClass, String... args) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = location(TcpConnection.class) + File.pathSeparator + location(mainClass);
        List<String> command = new ArrayList<>(List.of(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-Xmx64m",
                "--enable-preview", "--enable-native-access=ALL-UNNAMED", "-cp", classPath, mainClass.getName()));
        command.addAll(List.of(args));
        return new ChildJvm(new ProcessBuilder(command).start());
    }

    /** The class-path root a class was loaded from, found from its class file (module patching hides the code source). */
    private static String location(Class<?> c) {
        String file = c.getSimpleName() + ".class";
        java.net.URL url = c.getResource(file);
        if (url == null || !url.getProtocol().equals("file")) {
            throw new IllegalStateException("cannot locate the class file of " + c + ": " + url);
        }
        try {
            Path path = Path.of(url.toURI());
            for (int i = 0; i < c.getPackageName().split("\\.").length + 1; i++) {
                path = path.getParent();
            }
            return path.toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@return the process} */
    public Process process() {
        return process;
    }

    /** {@return the next stdout line, which must start with {@code word}; waits at most 60 s} */
    public String expect(String word) throws InterruptedException {
        String line = lines.poll(60, TimeUnit.SECONDS);
        if (line == null || line.equals(EOF_MARK)) {
            throw new AssertionFailedError("the child JVM " + (line == null ? "printed nothing for 60 s" : "ended")
                    + " while the test waited for " + word + "; lines so far " + seen + ", stderr:\n" + stderr);
        }
        seen.add(line);
        if (!line.equals(word) && !line.startsWith(word + " ")) {
            throw new AssertionFailedError("expected " + word + " from the child JVM, got " + line + "; stderr:\n"
                    + stderr);
        }
        return line;
    }

    /** Sends a line to the child's stdin. */
    public void sendLine(String line) throws IOException {
        stdin.write(line + "\n");
        stdin.flush();
    }

    /** Waits for the child to exit; {@return its exit status} */
    public int awaitExit() throws InterruptedException {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            throw new AssertionFailedError("the child JVM did not exit; stderr:\n" + stderr);
        }
        return process.exitValue();
    }

    /** {@return its stderr so far} */
    public String stderr() {
        return stderr.toString();
    }

    /** Kills the process if it still runs, and waits for it to go. */
    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
