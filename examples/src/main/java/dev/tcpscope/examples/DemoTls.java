package dev.tcpscope.examples;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpServer;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static dev.tcpscope.examples.Demo.LOOPBACK_ANY_PORT;
import static dev.tcpscope.examples.Demo.PARTS;
import static dev.tcpscope.examples.Demo.QUIET;
import static dev.tcpscope.examples.Demo.responsePart;

/**
 * The demo's TLS rows: the same response over TLS, from the JDK's {@code SSLSocket} (whose
 * {@code close()} sends {@code close_notify}, TLS's "my data is complete", whatever happened) and
 * from a tcpscope {@link TcpServer} with TLS ({@code close_notify} only when the handler returned).
 * The peer is a tcpscope TLS client, whose read returns -1 only after the server's
 * {@code close_notify} and throws for a FIN without it or a reset. One self-signed certificate for
 * both servers, made by {@code keytool} at start ({@link SelfSignedTls}).
 */
final class DemoTls {

    /** A TLS row: the response complete, or the handler failing after half of it. */
    private record Scenario(String name, boolean fails) {}

    private static final List<Scenario> SCENARIOS = List.of(
            new Scenario("over TLS: handler completes", false),
            new Scenario("over TLS: handler throws an exception", true));

    private DemoTls() {}

    /** Runs the TLS rows; {@code progress} sees each as it is done. */
    static List<Demo.Row> rows(java.util.function.Consumer<Demo.Row> progress) throws Exception {
        SelfSignedTls certificate = SelfSignedTls.create();
        SSLContext server = certificate.serverContext();
        SSLContext client = certificate.clientContext();
        List<Demo.Row> rows = new ArrayList<>();
        for (Scenario scenario : SCENARIOS) {
            Demo.Row row = new Demo.Row(scenario.name(), observeJdk(scenario, server, client),
                    observeTcpscope(scenario, server, client));
            progress.accept(row);
            rows.add(row);
        }
        return rows;
    }

    /** The JDK's way: an SSLSocket closed by try-with-resources, which sends close_notify. */
    private static PeerObservation observeJdk(Scenario scenario, SSLContext serverContext, SSLContext client)
            throws Exception {
        try (SSLServerSocket server = (SSLServerSocket) serverContext.getServerSocketFactory().createServerSocket();
             ExecutorService handlers = Executors.newVirtualThreadPerTaskExecutor()) {
            server.bind(LOOPBACK_ANY_PORT);
            handlers.submit(() -> {
                try (SSLSocket socket = (SSLSocket) server.accept()) {
                    socket.setTcpNoDelay(true);
                    readRequest(socket.getInputStream());
                    respond(scenario, socket.getOutputStream());
                }
                return null;
            });
            return observe(new InetSocketAddress(server.getInetAddress(), server.getLocalPort()), client);
        }
    }

    /** The tcpscope way: a TcpServer with TLS, whose connections end as their handlers do. */
    private static PeerObservation observeTcpscope(Scenario scenario, SSLContext serverContext, SSLContext client)
            throws Exception {
        TcpServer server = TcpServer.builder(LOOPBACK_ANY_PORT).tls(serverContext).bind();
        Thread serving = Thread.ofVirtual().start(() -> server.serve((connection, scope) -> {
            connection.noDelay(true);
            readRequest(connection.inputStream());
            respond(scenario, connection.outputStream());
        }));
        try {
            return observe(server.localAddress(), client);
        } finally {
            server.close();
            serving.join();
        }
    }

    private static void readRequest(InputStream in) throws IOException {
        int b;
        do { // the request, to its newline
            b = in.read();
        } while (b >= 0 && b != '\n');
    }

    private static void respond(Scenario scenario, OutputStream out) throws IOException {
        out.write(responsePart(scenario.fails() ? 2 : PARTS));
        out.flush();
        if (scenario.fails()) {
            throw new IOException("the database went away");
        }
    }

    private static PeerObservation observe(InetSocketAddress address, SSLContext client) throws IOException {
        try (TcpConnection peer = TcpConnection.connectTls(address, Duration.ofSeconds(30), client, null, null)) {
            peer.noDelay(true);
            peer.write("GET /report\n".getBytes(StandardCharsets.US_ASCII));
            return PeerObservation.readToEnd(peer, QUIET);
        }
    }
}
