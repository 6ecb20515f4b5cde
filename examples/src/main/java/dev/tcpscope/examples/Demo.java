package dev.tcpscope.examples;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpServer;
import dev.tcpscope.examples.DemoScenarios.Scenario;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The demonstration: each way a server can fail mid-response, done twice — with the JDK's own
 * sockets and with tcpscope — while a peer records what it actually saw on the wire. Nothing in
 * the table is written in advance: every cell is a live observation.
 *
 * <p>The "response" is 4 parts of 1 KiB, the answer to a one-line request; a failing server
 * has sent 2 of them when it fails.
 */
public final class Demo {

    /** One row of the table: a scenario and what the peer saw in each implementation. */
    public record Row(String scenario, PeerObservation plainJdk, PeerObservation tcpscope) {}

    static final int PART = 1024;
    static final int PARTS = 4;
    /** Longest the peer waits for a byte or an ending; -Dtcpscope.demo.quietMillis to change. */
    static final Duration QUIET = Duration.ofMillis(Long.getLong("tcpscope.demo.quietMillis", 10_000));
    static final InetSocketAddress LOOPBACK_ANY_PORT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    /**
     * The peer's one-line request, which both servers read before they answer, as real ones do.
     * It also means no server can reset before the peer's connect has returned: on the portable
     * transport such a reset fails the JDK's connect and loses the bytes sent first (README,
     * "Transports"), and the row would show the handshake's race instead of the ending.
     */
    private static final ByteBuffer REQUEST = ByteBuffer.wrap("GET /report\n".getBytes(StandardCharsets.US_ASCII)).asReadOnlyBuffer();

    private Demo() {}

    /** {@return the first {@code parts} parts of the response} */
    static byte[] responsePart(int parts) {
        byte[] bytes = new byte[parts * PART];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) ('a' + (i / PART) % 26);
        }
        return bytes;
    }

    /** Runs the demo and prints the table. */
    public static void main(String[] args) throws Exception {
        PrintStream out = System.out;
        out.println("tcpscope demo: a server sends a " + PARTS * PART + "-byte response; in most scenarios it fails"
                + " after " + 2 * PART + " bytes.");
        out.println("A peer (a tcpscope client: read() returns -1 only on FIN, over TLS only after close_notify)"
                + " records what it saw.");
        out.println();
        List<Row> rows = run(row -> out.printf("  %-44s done%n", row.scenario()));
        out.println();
        printTable(rows, out);
    }

    /** Runs every scenario and returns the observations; {@code progress} sees each row as it is done. */
    public static List<Row> run(java.util.function.Consumer<Row> progress) throws Exception {
        List<Row> rows = new ArrayList<>();
        for (Scenario scenario : DemoScenarios.inProcessScenarios()) {
            Row row = new Row(scenario.name(), observePlainJdk(scenario), observeTcpscope(scenario));
            progress.accept(row);
            rows.add(row);
        }
        for (Row row : DemoTls.rows(progress)) {
            rows.add(row);
        }
        for (String death : List.of("exit", "halt", "kill")) {
            String name = switch (death) {
                case "exit" -> "the process calls System.exit";
                case "halt" -> "the process calls Runtime.halt";
                default -> "the process is killed with SIGKILL";
            };
            Row row = new Row(name, DemoChild.observeChild("jdk", death), DemoChild.observeChild("tcpscope", death));
            progress.accept(row);
            rows.add(row);
        }
        return rows;
    }

    static void printTable(List<Row> rows, PrintStream out) {
        String format = "%-40s | %-34s | %-34s%n";
        out.printf(format, "scenario", "plain JDK sockets: peer saw", "tcpscope: peer saw");
        out.println("-".repeat(40) + "-+-" + "-".repeat(34) + "-+-" + "-".repeat(34));
        for (Row row : rows) {
            out.printf(format, row.scenario(), row.plainJdk().describe(), row.tcpscope().describe());
        }
        out.println();
        out.println("Why it matters: with plain sockets every failure above looks like a complete response"
                + " to the peer (a clean EOF);");
        out.println("with tcpscope only the complete one ends cleanly, and every failure arrives as a reset.");
    }

    // ------------------------------------------------------------------ the two servers

    /**
     * The plain JDK way: a virtual thread per connection, the channel closed by
     * try-with-resources — which sends FIN whatever happened.
     */
    private static PeerObservation observePlainJdk(Scenario scenario) throws Exception {
        CountDownLatch halfSent = new CountDownLatch(1);
        try (ServerSocketChannel server = ServerSocketChannel.open();
             ExecutorService handlers = Executors.newVirtualThreadPerTaskExecutor()) {
            server.bind(LOOPBACK_ANY_PORT);
            handlers.submit(() -> {
                try (SocketChannel channel = server.accept()) {
                    channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    ByteBuffer one = ByteBuffer.allocate(1);
                    do { // the request, to its newline
                        one.clear();
                    } while (channel.read(one) > 0 && one.get(0) != '\n');
                    scenario.plainJdk(channel, halfSent::countDown);
                }
                return null;
            });
            if (scenario.shutsDownServer()) {
                Thread.ofVirtual().start(() -> {
                    awaitQuietly(halfSent);
                    handlers.shutdownNow(); // interrupts the handler: the JDK closes its channel
                });
            }
            try (TcpConnection peer = TcpConnection.connect((InetSocketAddress) server.getLocalAddress())) {
                peer.write(REQUEST.duplicate());
                return PeerObservation.readToEnd(peer, QUIET);
            }
        }
    }

    /** The tcpscope way: a TcpServer, whose connections end as their handlers do. */
    private static PeerObservation observeTcpscope(Scenario scenario) throws Exception {
        CountDownLatch halfSent = new CountDownLatch(1);
        TcpServer server = TcpServer.builder(LOOPBACK_ANY_PORT).drainPeriod(Duration.ofMillis(200)).bind();
        Thread serving = Thread.ofVirtual().start(() -> server.serve((connection, scope) -> {
            byte[] one = new byte[1];
            while (connection.read(one) > 0 && one[0] != '\n') {
                // the request, to its newline
            }
            scenario.tcpscope(connection, scope, halfSent::countDown);
        }));
        try {
            if (scenario.shutsDownServer()) {
                Thread.ofVirtual().start(() -> {
                    awaitQuietly(halfSent);
                    server.shutdown();
                });
            }
            try (TcpConnection peer = TcpConnection.connect(server.localAddress())) {
                peer.write(REQUEST.duplicate());
                return PeerObservation.readToEnd(peer, QUIET);
            }
        } finally {
            server.close();
            serving.join();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
