package dev.tcpscope.examples;

import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;

import java.io.IOException;
import java.util.List;

/**
 * The examples' {@link Launcher} in a child JVM, started as {@code ./tcpscope} starts it (see
 * {@link ChildJvm}): run to its end ({@link #run}), or as a {@code serve} process that keeps
 * running ({@link Server}).
 */
final class ExampleProcess {

    /** Longest any child JVM is given for anything; only a hang ever comes near it. */
    static final long TIMEOUT_SECONDS = ChildProcess.TIMEOUT.toSeconds();

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

    /** Runs {@code Launcher} with {@code args} to its end (at most {@link #TIMEOUT_SECONDS}), with nothing on stdin. */
    static Result run(String... args) throws IOException {
        try (ChildProcess child = ChildJvm.start(Launcher.class, args)) {
            int exitCode = child.awaitExit();
            StringBuilder stdout = new StringBuilder();
            child.stdout().forEach(line -> stdout.append(line).append('\n'));
            return new Result(exitCode, stdout.toString(), child.stderr());
        }
    }

    /** A running {@code serve} process; closing it kills it (SIGKILL) if it still runs. */
    static final class Server implements AutoCloseable {
        private static final String PREFIX = "tcpscope example server listening on ";

        final Process process;
        final String url;
        final int port;
        private final ChildProcess child;

        private Server(ChildProcess child, String url, int port) {
            this.child = child;
            this.process = child.process();
            this.url = url;
            this.port = port;
        }

        /**
         * Starts {@code serve} with {@code args} and waits for its first line (the URL), which it
         * prints once it accepts connections.
         */
        static Server start(String... args) throws IOException {
            String[] serveArgs = new String[args.length + 1];
            serveArgs[0] = "serve";
            System.arraycopy(args, 0, serveArgs, 1, args.length);
            ChildProcess child = ChildJvm.start(Launcher.class, serveArgs);
            try {
                String line = child.nextLine();
                String url = line.startsWith(PREFIX) ? line.substring(PREFIX.length()) : "";
                if (!(url.startsWith("http://127.0.0.1:") || url.startsWith("https://127.0.0.1:")) || !url.endsWith("/")) {
                    throw new AssertionError("serve's first line is not its URL: " + line + "; " + child.describe());
                }
                int port = Integer.parseInt(url.substring(url.lastIndexOf(':') + 1, url.length() - 1));
                return new Server(child, url, port);
            } catch (Throwable t) {
                child.close();
                throw t;
            }
        }

        /** Waits (at most {@link #TIMEOUT_SECONDS}) for the server to exit; {@return its exit status} */
        int awaitExit() {
            return child.awaitExit();
        }

        /** {@return what it printed on stderr (all of it, after {@link #awaitExit()})} */
        String stderr() {
            return child.stderr();
        }

        @Override
        public void close() {
            child.close();
        }
    }
}
