package dev.tcpscope.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * A child JVM running one of the mains of this package, driven line by line over its stdin and
 * stdout; its stderr goes to a file under {@code target/}, shown when something fails.
 *
 * <p>The child runs from a jar holding the main classes and this package's classes, on the class
 * path (unnamed module): a JVM keeps a jar open, so loading classes late needs no new descriptor,
 * which matters for a child that runs out of descriptors on purpose.
 */
public final class ChildJvm implements AutoCloseable {

    /** Flags every child needs: preview API (StructuredTaskScope), FFM, two carriers. */
    public static final List<String> FLAGS = List.of(
            "--enable-preview", "--enable-native-access=ALL-UNNAMED",
            "-Djdk.virtualThreadScheduler.parallelism=2", "-Djdk.virtualThreadScheduler.maxPoolSize=2");

    private static final String END = "\u0000end-of-output";
    private static Path jar;

    private final Process process;
    private final Path stderr;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final OutputStream stdin;

    private ChildJvm(Process process, Path stderr) {
        this.process = process;
        this.stderr = stderr;
        this.stdin = process.getOutputStream();
        Thread.ofPlatform().daemon().name("child-stdout-" + process.pid()).start(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("stdout failed: " + e);
            } finally {
                lines.add(END);
            }
        });
    }

    /** {@return the build's target directory} */
    public static Path target() {
        Path base = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
        Path target = base.resolve("target");
        if (!Files.isDirectory(target.resolve("classes")) || !Files.isDirectory(target.resolve("test-classes"))) {
            throw new IllegalStateException("cannot find target/classes and target/test-classes under " + base);
        }
        return target;
    }

    /**
     * Starts {@code java FLAGS jvmOptions -cp JAR mainClass args}, behind {@code wrapper} (e.g.
     * a shell that lowers the descriptor limit) if it is not empty.
     */
    public static ChildJvm start(List<String> wrapper, List<String> jvmOptions, Class<?> mainClass, String... args)
            throws IOException {
        List<String> command = new ArrayList<>(wrapper);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(FLAGS);
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(jar().toString());
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        Path logs = Files.createDirectories(target().resolve("server-test-children"));
        Path stderr = logs.resolve(mainClass.getSimpleName() + "-" + System.nanoTime() + ".stderr.txt");
        Process process = new ProcessBuilder(command)
                .redirectError(stderr.toFile())
                .start();
        return new ChildJvm(process, stderr);
    }

    /** {@return the jar the children run from, built once per test JVM} */
    public static synchronized Path jar() throws IOException {
        if (jar == null) {
            Path target = target();
            Path file = target.resolve("server-test-children").resolve("children.jar");
            Files.createDirectories(file.getParent());
            Set<String> names = new HashSet<>();
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(file))) {
                add(out, names, target.resolve("classes"), "");
                add(out, names, target.resolve("test-classes"), ChildJvm.class.getPackageName().replace('.', '/'));
            }
            jar = file;
        }
        return jar;
    }

    private static void add(JarOutputStream out, Set<String> names, Path root, String under) throws IOException {
        Path start = under.isEmpty() ? root : root.resolve(under);
        try (Stream<Path> files = Files.walk(start)) {
            for (Path path : files.filter(Files::isRegularFile).sorted().toList()) {
                String name = root.relativize(path).toString().replace('\\', '/');
                if (name.equals("module-info.class") || !names.add(name)) {
                    continue; // on the class path: an unnamed module
                }
                out.putNextEntry(new JarEntry(name));
                Files.copy(path, out);
                out.closeEntry();
            }
        }
    }

    /** Sends one line to the child's stdin. */
    public void send(String line) {
        try {
            stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to the child: " + describe(), e);
        }
    }

    /**
     * {@return the next line the child prints that starts with {@code prefix}} Other lines are
     * skipped. Fails if the child exits first, or the guard passes (a hung child).
     */
    public String expect(String prefix, Duration guard) throws InterruptedException {
        long deadline = System.nanoTime() + guard.toNanos();
        while (true) {
            String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError("the child printed no \"" + prefix + "\" line within the guard "
                        + guard + "; " + describe());
            }
            if (line == END) {
                lines.add(END);
                throw new AssertionError("the child ended without printing \"" + prefix + "\"; " + describe());
            }
            if (line.startsWith(prefix)) {
                return line;
            }
        }
    }

    /** Closes the child's stdin and waits (bounded) for it to exit; {@return its exit code} */
    public int awaitExit(Duration guard) throws InterruptedException {
        try {
            stdin.close();
        } catch (IOException ignored) {
            // already gone
        }
        if (!process.waitFor(guard.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the child did not exit within the guard " + guard + "; " + describe());
        }
        return process.exitValue();
    }

    /** {@return the child's pid, exit state and the tail of its stderr} */
    public String describe() {
        String state = process.isAlive() ? "running" : "exited with " + process.exitValue();
        String err;
        try {
            List<String> all = Files.readAllLines(stderr);
            err = String.join("\n", all.subList(Math.max(0, all.size() - 40), all.size()));
        } catch (IOException e) {
            err = "(stderr unreadable: " + e + ")";
        }
        return "child " + process.pid() + " " + state + "; stderr " + stderr + ":\n" + err;
    }

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
