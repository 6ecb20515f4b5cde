package dev.tcpscope.examples;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * {@code serve [--port N] [--time-limit SECONDS] [--tls]}: an HTTP/1.0 server with close-delimited bodies
 * (no Content-Length, {@code Connection: close}) — the case where a truncated body cannot be told
 * from a complete one, unless the ending says so.
 *
 * <ul>
 *   <li>{@code /ok} streams a body and ends gracefully: the client sees all of it, then FIN.</li>
 *   <li>{@code /fail} streams part of a body, then the handler throws: the client sees RST.</li>
 *   <li>{@code /slow} sends its headers, then stalls past the handler time limit (3 s by
 *       default): the server resets the connection.</li>
 * </ul>
 * With {@code --tls} it serves HTTPS with a self-signed certificate made at start
 * ({@link SelfSignedTls}): {@code /ok} ends with {@code close_notify} then FIN; {@code /fail}
 * and {@code /slow} send no {@code close_notify}, and RST.
 * Binds to 127.0.0.1 (port 0 picks a free port), prints its URL once it accepts connections, and
 * stops on SIGINT or SIGTERM within its drain period.
 */
public final class HttpExampleServer {

    private static final int MAX_REQUEST_HEAD = 8192;

    private HttpExampleServer() {}

    public static void main(String[] args) throws Launcher.UsageException, Launcher.Failure {
        int port = 8080;
        Duration timeLimit = Duration.ofSeconds(3);
        boolean tls = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Probe.port(Probe.value(args, ++i, "--port"), 0);
                case "--time-limit" -> timeLimit = Probe.seconds(Probe.value(args, ++i, "--time-limit"), "--time-limit");
                case "--tls" -> tls = true;
                default -> throw new Launcher.UsageException("serve: unknown option '" + args[i] + "'");
            }
        }
        TcpServer server;
        try {
            TcpServer.Builder builder = TcpServer.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
                    .handlerTimeLimit(timeLimit)
                    .idleLimit(Duration.ofSeconds(30))
                    .drainPeriod(Duration.ofSeconds(2));
            if (tls) {
                try {
                    builder.tls(SelfSignedTls.create().serverContext());
                } catch (IOException e) {
                    throw new Launcher.Failure("serve: cannot make a self-signed certificate: " + e.getMessage());
                }
            }
            server = builder.bind();
        } catch (IOException e) { // e.g. the port is taken
            throw new Launcher.Failure("serve: cannot listen on 127.0.0.1:" + port + ": " + e.getMessage());
        }
        // SIGINT and SIGTERM run the shutdown hooks: a bounded shutdown, then the JVM exits.
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdown, "tcpscope-serve-shutdown"));
        System.out.println("tcpscope example server listening on " + (tls ? "https" : "http") + "://127.0.0.1:"
                + server.localAddress().getPort() + "/");
        System.out.flush();
        server.serve((connection, scope) -> handle(connection));
    }

    private static void handle(TcpConnection connection) throws Exception {
        connection.readTimeout(Duration.ofSeconds(10));
        String path = requestPath(connection.inputStream());
        OutputStream out = connection.outputStream();
        switch (path) {
            case "/ok" -> {
                head(out, "200 OK");
                for (int line = 1; line <= 100; line++) {
                    out.write(("line " + line + " of 100\n").getBytes(StandardCharsets.US_ASCII));
                }
            }
            case "/fail" -> {
                head(out, "200 OK");
                for (int line = 1; line <= 40; line++) {
                    out.write(("line " + line + " of 100\n").getBytes(StandardCharsets.US_ASCII));
                }
                out.flush();
                throw new IllegalStateException("simulated failure after 40 of 100 lines");
            }
            case "/slow" -> {
                head(out, "200 OK");
                out.flush();
                Thread.sleep(Duration.ofHours(1)); // a stalled backend; the time limit interrupts it
            }
            default -> {
                head(out, "404 Not Found");
                out.write(("no such page: " + path + "; try /ok, /fail or /slow\n").getBytes(StandardCharsets.US_ASCII));
            }
        }
        out.flush();
    }

    private static void head(OutputStream out, String status) throws IOException {
        out.write(("HTTP/1.0 " + status + "\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
    }

    /** Reads the request head up to the blank line and returns the path of its request line. */
    private static String requestPath(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n") && !head.toString().endsWith("\n\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            if (head.length() >= MAX_REQUEST_HEAD) {
                throw new IOException("request head longer than " + MAX_REQUEST_HEAD + " bytes");
            }
            head.append((char) c);
        }
        String[] requestLine = head.toString().lines().findFirst().orElse("").split(" ");
        return requestLine.length >= 2 ? requestLine[1] : "/";
    }
}
