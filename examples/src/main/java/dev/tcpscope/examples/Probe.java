package dev.tcpscope.examples;

import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.TcpConnection;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * {@code probe HOST:PORT [--send TEXT] [--timeout SECONDS]}: connects, optionally sends TEXT, reads
 * to the end and reports how the server ended the connection. Exit code 0 = FIN, 1 = RST,
 * 3 = still open at the timeout; 2 = bad arguments, 4 = could not connect (or another I/O
 * failure). Works against any TCP server.
 */
public final class Probe {

    private Probe() {}

    /** Runs the probe; returns the exit code. */
    static int run(String[] args, PrintStream out) throws Launcher.UsageException, IOException {
        if (args.length == 0) {
            throw new Launcher.UsageException("probe needs HOST:PORT");
        }
        InetSocketAddress target = parseTarget(args[0]);
        String send = null;
        Duration timeout = Duration.ofSeconds(10);
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--send" -> send = unescape(value(args, ++i, "--send"));
                case "--timeout" -> timeout = seconds(value(args, ++i, "--timeout"), "--timeout");
                default -> throw new Launcher.UsageException("probe: unknown option '" + args[i] + "'");
            }
        }
        long start = System.nanoTime();
        TcpConnection connection;
        try {
            connection = TcpConnection.connect(target, timeout);
        } catch (UnknownHostException e) {
            throw new Launcher.UsageException("probe: cannot resolve host '" + target.getHostString() + "'");
        } catch (ConnectException | java.net.SocketTimeoutException | java.net.NoRouteToHostException e) {
            System.err.println("tcpscope probe: cannot connect to " + args[0] + ": " + e.getMessage());
            return 4;
        } catch (ConnectionResetException e) {
            // The portable transport only: the server accepted and reset before the JDK's connect
            // returned, and the JDK closed the channel with whatever the server had sent (README,
            // "Transports"). Still the server's RST, reported as such, without the lost bytes.
            out.printf("RST: connection reset during connect; what the server sent first is lost (after %d ms)%n",
                    (System.nanoTime() - start) / 1_000_000);
            return 1;
        }
        long connected = System.nanoTime();
        PeerObservation seen;
        try (connection) {
            if (send != null) {
                try {
                    connection.write(send.getBytes(StandardCharsets.ISO_8859_1));
                } catch (ConnectionResetException e) {
                    // Reset before it took the text: the reads below report the reset after
                    // whatever the server sent first (the connection remembers it).
                }
            }
            seen = PeerObservation.readToEnd(connection, timeout);
        } catch (IOException e) {
            System.err.println("tcpscope probe: connection to " + args[0] + " failed: " + e.getMessage());
            return 4;
        }
        long ended = System.nanoTime();
        String firstLine = seen.first().lines().findFirst().orElse("");
        out.printf("%s: %s (connected in %d ms, ended after %d ms)%s%n",
                switch (seen.ending()) {
                    case FIN -> "FIN";
                    case RST -> "RST";
                    case TRUNCATED -> "TRUNCATED"; // TLS only: the probe speaks plain TCP, never sees it
                    case OPEN -> "OPEN";
                },
                seen.describe(), (connected - start) / 1_000_000, (ended - connected) / 1_000_000,
                firstLine.isEmpty() ? "" : "; first line: " + firstLine);
        return switch (seen.ending()) {
            case FIN -> 0;
            case RST, TRUNCATED -> 1;
            case OPEN -> 3;
        };
    }

    static InetSocketAddress parseTarget(String hostPort) throws Launcher.UsageException {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0 || colon == hostPort.length() - 1) {
            throw new Launcher.UsageException("probe: expected HOST:PORT, got '" + hostPort + "'");
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = port(hostPort.substring(colon + 1), 1);
        return InetSocketAddress.createUnresolved(host, port);
    }

    /** Parses a port from {@code lowest} (0 lets the system pick, for a server) to 65535. */
    static int port(String text, int lowest) throws Launcher.UsageException {
        try {
            int port = Integer.parseInt(text);
            if (port >= lowest && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new Launcher.UsageException("bad port '" + text + "': expected a number from " + lowest + " to 65535");
    }

    static Duration seconds(String text, String option) throws Launcher.UsageException {
        try {
            double seconds = Double.parseDouble(text);
            if (seconds > 0 && seconds <= 86_400) {
                // At least a nanosecond: a positive number never rounds down to a zero duration.
                return Duration.ofNanos(Math.max(1, (long) (seconds * 1e9)));
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new Launcher.UsageException(option + ": expected a positive number of seconds, got '" + text + "'");
    }

    static String value(String[] args, int i, String option) throws Launcher.UsageException {
        if (i >= args.length) {
            throw new Launcher.UsageException(option + " needs a value");
        }
        return args[i];
    }

    /** Turns {@code \r \n \t \\} escapes into the characters, so TEXT can speak HTTP. */
    static String unescape(String text) throws Launcher.UsageException {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\\') {
                s.append(c);
                continue;
            }
            if (++i == text.length()) {
                throw new Launcher.UsageException("--send: a lone backslash at the end");
            }
            s.append(switch (text.charAt(i)) {
                case 'r' -> '\r';
                case 'n' -> '\n';
                case 't' -> '\t';
                case '\\' -> '\\';
                default -> throw new Launcher.UsageException("--send: unknown escape \\" + text.charAt(i));
            });
        }
        return s.toString();
    }
}
