package dev.tcpscope.examples;

import java.util.Arrays;

/**
 * The entry point of {@code ./tcpscope demo | serve | probe}: one launcher, three commands.
 * Bad arguments give a one-line error and exit code 2, never a stack trace.
 */
public final class Launcher {

    static final String USAGE = """
            usage: tcpscope demo
                   tcpscope serve [--port N] [--time-limit SECONDS] [--tls]
                   tcpscope probe HOST:PORT [--send TEXT] [--timeout SECONDS]

              demo    what a peer sees when a server fails, with plain JDK sockets and with tcpscope
              serve   an example HTTP/1.0 server: /ok ends cleanly, /fail and /slow are reset;
                      --tls serves HTTPS with a self-signed certificate made at start
              probe   connects, optionally sends TEXT (\\r \\n \\t \\\\ escapes), reads to the end and
                      reports how the server ended the connection: exit 0 FIN, 1 RST, 3 still open,
                      4 cannot connect""";

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help") || args[0].equals("help")) {
            System.out.println(USAGE);
            return;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            switch (args[0]) {
                case "demo" -> {
                    if (rest.length > 0) {
                        throw new UsageException("demo takes no arguments");
                    }
                    Demo.main(rest);
                }
                case "serve" -> HttpExampleServer.main(rest);
                case "probe" -> System.exit(Probe.run(rest, System.out));
                default -> throw new UsageException("unknown command '" + args[0] + "'");
            }
        } catch (UsageException e) {
            System.err.println("tcpscope: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
        } catch (Failure e) {
            System.err.println("tcpscope: " + e.getMessage());
            System.exit(1);
        }
    }

    /** A command that cannot do its work (e.g. its port is taken): one line, exit code 1. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String message) {
            super(message);
        }
    }

    /** A bad command line: reported in one line with the usage, exit code 2. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }
}
