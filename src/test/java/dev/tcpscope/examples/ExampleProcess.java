package dev.tcpscope.examples;

import dev.tcpscope.TcpConnection;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs the examples' {@link Launcher} in a separate JVM, the way {@code ./tcpscope} does: the java
 * binary of this JVM, {@code --enable-preview --enable-native-access=ALL-UNNAMED}, and a class
 * path made of the code locations of the examples and of the library (target/test-classes and
 * target/classes in a Maven build).
 */
final class ExampleProcess {

    /** Longest any child JVM is given for anything; only a hang ever comes near it. */
    static final long TIMEOUT_SECONDS = 60;

    private ExampleProcess() {}

    /** The outcome of a finished child process. */
    record Result(int exitCode, String stdout, String stderr) {
        List<String> stderrLines() {
            return stderr.lines().toList();
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout:\n" + stdout + "--- stderr:\n" + stderr;
        }
    }

    /** {@return the command line that runs {@code Launcher} with {@code args}} */
    static List<String> command(String... args) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>(List.of(java, "--enable-preview", "--enable-native-access=ALL-UNNAMED",
                "-cp", codeLocation(Launcher.class) + File.pathSeparator + codeLocation(TcpConnection.class),
                Launcher.class.getName()));
        command.addAll(List.of(args));
        return command;
    }

    /** Runs {@code Launcher} with {@code args} to its end (at most {@link #TIMEOUT_SECONDS}). */
    static Result run(String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile("tcpscope-example-", ".out");
        Path err = Files.createTempFile("tcpscope-example-", ".err");
        Process process = null;
        try {
            process = new ProcessBuilder(command(args))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError("'" + String.join(" ", args) + "' did not end within " + TIMEOUT_SECONDS
                        + " s; stdout so far:\n" + Files.readString(out) + "\nstderr so far:\n" + Files.readString(err));
            }
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            if (process != null) {
                kill(process);
            }
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Ends {@code process} with SIGKILL if it is still running, and waits for it. */
    static void kill(Process process) throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
    }

    /** A running {@code serve} process. */
    static final class Server implements AutoCloseable {
        final Process process;
        final String url;
        final int port;
        private final Path stderr;

        private Server(Process process, String url, int port, Path stderr) {
            this.process = process;
            this.url = url;
            this.port = port;
            this.stderr = stderr;
        }

        /**
         * Starts {@code serve} with {@code args} and waits for its one line (the URL), which it
         * prints once it accepts connections; the rest of its stdout is drained in the background.
         */
        static Server start(String... args) throws IOException, InterruptedException {
            String[] serveArgs = new String[args.length + 1];
            serveArgs[0] = "serve";
            System.arraycopy(args, 0, serveArgs, 1, args.length);
            Path err = Files.createTempFile("tcpscope-serve-", ".err");
            Process process = new ProcessBuilder(command(serveArgs))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectError(err.toFile())
                    .start();
            try {
                CompletableFuture<String> firstLine = new CompletableFuture<>();
                // A platform thread: a blocking pipe read must not hold one of the 2 carriers.
                Thread.ofPlatform().daemon().name("serve-stdout").start(() -> {
                    try (BufferedReader lines = new BufferedReader(
                            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                        firstLine.complete(lines.readLine());
                        while (lines.readLine() != null) {
                            // drain, so the server never blocks on a full pipe
                        }
                    } catch (IOException e) {
                        firstLine.completeExceptionally(e);
                    }
                });
                String line;
                try {
                    line = firstLine.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                } catch (ExecutionException | TimeoutException e) {
                    throw new AssertionError("serve printed no line: " + e + "; stderr:\n" + Files.readString(err), e);
                }
                String prefix = "tcpscope example server listening on http://127.0.0.1:";
                if (line == null || !line.startsWith(prefix) || !line.endsWith("/")) {
                    throw new AssertionError("serve's first line is not its URL: " + line
                            + "; stderr:\n" + Files.readString(err));
                }
                String url = line.substring(line.indexOf("http://"));
                int port = Integer.parseInt(line.substring(prefix.length(), line.length() - 1));
                return new Server(process, url, port, err);
            } catch (Throwable t) {
                kill(process);
                Files.deleteIfExists(err);
                throw t;
            }
        }

        String stderr() {
            try {
                return Files.readString(stderr);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Kills the server with SIGKILL if it still runs (a test that stops it uses SIGTERM first). */
        @Override
        public void close() throws IOException {
            try {
                kill(process);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                Files.deleteIfExists(stderr);
            }
        }
    }

    private static String codeLocation(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
