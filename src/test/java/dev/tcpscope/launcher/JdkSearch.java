package dev.tcpscope.launcher;

import dev.tcpscope.testing.ChildProcess;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Runs the repository's JDK search (scripts/find-jdk.sh) — or a whole launcher — in a bash with
 * an environment the test chooses and nothing else ({@code env -i}): its own JAVA_HOME, its own
 * TCPSCOPE_JDK_CANDIDATES, and a PATH holding only the few tools the scripts use, so that no JDK
 * of the machine running the tests (a real 25 and 17 here) can be found by accident.
 */
final class JdkSearch {

    /** What a run printed and how it exited. */
    record Outcome(int exitStatus, List<String> stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exitStatus + ", stdout " + stdout + ", stderr:\n" + stderr;
        }
    }

    /** The external commands scripts/find-jdk.sh and the launchers call before Maven. */
    private static final List<String> TOOLS = List.of("sed", "head", "readlink", "dirname");

    private final Path tools;
    private final Map<String, String> environment = new LinkedHashMap<>();
    private final List<Path> extraPath = new ArrayList<>();

    /** A search whose PATH tools are wrapped in {@code work/tools}. */
    JdkSearch(Path work) {
        try {
            tools = Files.createDirectories(work.resolve("tools"));
            for (String tool : TOOLS) {
                // A wrapper, not a symbolic link: JUnit warns about links leaving its temporary directory.
                Path wrapper = tools.resolve(tool);
                if (!Files.exists(wrapper)) {
                    Files.writeString(wrapper, "#!/bin/sh\nexec '" + onHostPath(tool) + "' \"$@\"\n");
                    Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        environment.put("HOME", work.toString());
    }

    /** Sets JAVA_HOME. */
    JdkSearch javaHome(Path home) {
        environment.put("JAVA_HOME", home.toString());
        return this;
    }

    /** Sets TCPSCOPE_JDK_CANDIDATES to these directories (none: set but empty). */
    JdkSearch candidates(Path... directories) {
        environment.put("TCPSCOPE_JDK_CANDIDATES",
                java.util.Arrays.stream(directories).map(Path::toString).collect(Collectors.joining(":")));
        return this;
    }

    /** Adds a directory to PATH, after the tools (e.g. one holding a javac). */
    JdkSearch path(Path directory) {
        extraPath.add(directory);
        return this;
    }

    /**
     * Runs {@code JAVA_HOME=$(find_jdk tcpscope)} under {@code set -euo pipefail}, as the
     * launchers do, and prints "picked DIR" if it succeeded.
     */
    Outcome findJdk() {
        return run(List.of(bash(), "-c", """
                set -euo pipefail
                source "$1"
                JAVA_HOME=$(find_jdk tcpscope)
                printf 'picked %s\\n' "$JAVA_HOME"
                """, "bash", Path.of("scripts/find-jdk.sh").toAbsolutePath().toString()));
    }

    /** Runs the launcher {@code script} (relative to the repository) with {@code arguments}. */
    Outcome launcher(String script, String... arguments) {
        List<String> command = new ArrayList<>(List.of(bash(), Path.of(script).toAbsolutePath().toString()));
        command.addAll(List.of(arguments));
        return run(command);
    }

    private Outcome run(List<String> command) {
        List<String> full = new ArrayList<>(List.of(onHostPath("env").toString(), "-i"));
        List<String> path = new ArrayList<>(List.of(tools.toString()));
        extraPath.forEach(p -> path.add(p.toString()));
        full.add("PATH=" + String.join(":", path));
        environment.forEach((name, value) -> full.add(name + "=" + value));
        full.addAll(command);
        try (ChildProcess child = ChildProcess.start("bash running the JDK search", full)) {
            int status = child.awaitExit();
            return new Outcome(status, child.stdout(), child.stderr());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String bash() {
        return onHostPath("bash").toString();
    }

    /** {@return the absolute path of {@code tool} on the PATH of the JVM running the tests} */
    private static Path onHostPath(String tool) {
        for (String directory : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path candidate = Path.of(directory, tool);
            if (Files.isExecutable(candidate)) {
                return candidate.toAbsolutePath();
            }
        }
        throw new IllegalStateException(tool + " is not on PATH: the launcher tests need it");
    }
}
