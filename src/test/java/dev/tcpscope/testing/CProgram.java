package dev.tcpscope.testing;

import org.opentest4j.AssertionFailedError;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A C program among the test resources, compiled with this machine's gcc and run: to ask the C
 * headers what the generated bindings do not say (a constant, a struct layout), instead of
 * hard-coding a number. Without gcc the test fails; it never skips.
 */
public final class CProgram {

    private static final long TIMEOUT_MINUTES = 5;

    private CProgram() {}

    /**
     * Compiles the test resource {@code name} (a {@code .c} file in {@code anchor}'s package) in
     * {@code dir} with {@code gcc -std=gnu11 -Wall}, runs it, and {@return what it printed on stdout}.
     *
     * @throws AssertionFailedError if gcc is missing, the resource is not found, or compiling or
     *                              running fails (with the output)
     */
    public static String compileAndRun(Class<?> anchor, String name, Path dir) throws IOException,
            InterruptedException {
        findOnPath("gcc").orElseThrow(() -> new AssertionFailedError(anchor.getSimpleName()
                + " needs gcc on PATH: it compiles " + name + " to ask this machine's C headers"
                + " (on Debian/Ubuntu: apt-get install gcc). PATH=" + System.getenv("PATH")));
        return compileAndRun(anchor, name, dir, "gcc", List.of(), List.of());
    }

    /**
     * Compiles the test resource {@code name} in {@code dir} with {@code compiler} (a name on PATH,
     * e.g. a cross compiler) and {@code -std=gnu11 -Wall} plus {@code flags}, runs the program
     * behind {@code runner} (a command prefix such as an emulator; empty to run it directly), and
     * {@return what it printed on stdout}.
     *
     * @throws AssertionFailedError if the compiler or the runner is missing, the resource is not
     *                              found, or compiling or running fails (with the output)
     */
    public static String compileAndRun(Class<?> anchor, String name, Path dir, String compiler, List<String> flags,
            List<String> runner) throws IOException, InterruptedException {
        Path cc = findOnPath(compiler).orElseThrow(() -> new AssertionFailedError(anchor.getSimpleName()
                + " needs " + compiler + " on PATH to compile " + name + ". PATH=" + System.getenv("PATH")));
        Path source = dir.resolve(name);
        try (InputStream in = anchor.getResourceAsStream(name)) {
            if (in == null) {
                throw new AssertionFailedError("test resource " + name + " not found next to " + anchor.getName());
            }
            Files.copy(in, source, StandardCopyOption.REPLACE_EXISTING);
        }
        Path program = dir.resolve(name.replaceFirst("\\.c$", "") + "-" + compiler);
        List<String> compile = new ArrayList<>(List.of(cc.toString(), "-std=gnu11", "-Wall"));
        compile.addAll(flags);
        compile.addAll(List.of("-o", program.toString(), source.toString()));
        run(dir, "compile-" + compiler, compile);
        List<String> execute = new ArrayList<>(runner);
        execute.add(program.toString());
        return run(dir, "run-" + compiler, execute);
    }

    /**
     * Compiles the test resource {@code name} with gcc, as {@link #compileAndRun(Class, String, Path)}
     * does, without running it: {@return the program}, for {@link #run(Path, String...)}.
     */
    public static Path compile(Class<?> anchor, String name, Path dir) throws IOException, InterruptedException {
        Path source = dir.resolve(name);
        try (InputStream in = anchor.getResourceAsStream(name)) {
            if (in == null) {
                throw new AssertionFailedError("test resource " + name + " not found next to " + anchor.getName());
            }
            Files.copy(in, source, StandardCopyOption.REPLACE_EXISTING);
        }
        Path cc = findOnPath("gcc").orElseThrow(() -> new AssertionFailedError(anchor.getSimpleName()
                + " needs gcc on PATH to compile " + name + ". PATH=" + System.getenv("PATH")));
        Path program = dir.resolve(name.replaceFirst("\\.c$", ""));
        run(dir, "compile-" + name, List.of(cc.toString(), "-std=gnu11", "-Wall", "-o", program.toString(),
                source.toString()));
        return program;
    }

    /** Runs a program {@link #compile}d before with {@code args}; {@return what it printed} (it must exit 0). */
    public static String run(Path program, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(program.toString()));
        command.addAll(List.of(args));
        return run(program.getParent(), "run-" + program.getFileName(), command);
    }

    /** Runs a command with stdout and stderr in a file; fails unless it exits 0 in time. */
    private static String run(Path dir, String what, List<String> command) throws IOException, InterruptedException {
        Path log = dir.resolve(what + ".out");
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionFailedError(what + " did not finish within " + TIMEOUT_MINUTES + " minutes: " + command);
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new AssertionFailedError(what + " failed with exit code " + process.exitValue() + ": " + command
                    + "\n" + output);
        }
        return output;
    }

    /** {@return the executable {@code name} in a directory of PATH, if there is one} */
    public static Optional<Path> findOnPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String entry : path.split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(entry, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
