package dev.tcpscope.examples;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;
import dev.tcpscope.TcpScope;
import dev.tcpscope.TcpServer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.TimeUnit;

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

    /** What a server does after accepting, written once for each implementation. */
    private interface Scenario {
        String name();

        /** The handler on a plain JDK SocketChannel; {@code server} can be shut down mid-response. */
        void plainJdk(SocketChannel channel, Runnable halfSent) throws Exception;

        /** The handler on tcpscope. */
        void tcpscope(TcpConnection connection, TcpScope<Object, Void> scope, Runnable halfSent) throws Exception;

        /** Whether the server is shut down once half the response was sent. */
        default boolean shutsDownServer() {
            return false;
        }
    }

    static final int PART = 1024;
    static final int PARTS = 4;
    /** Longest the peer waits for a byte or an ending; -Dtcpscope.demo.quietMillis to change. */
    private static final Duration QUIET = Duration.ofMillis(Long.getLong("tcpscope.demo.quietMillis", 10_000));
    /** The timed-out scope's timeout; -Dtcpscope.demo.scopeTimeoutMillis to change. */
    private static final Duration SCOPE_TIMEOUT = Duration.ofMillis(Long.getLong("tcpscope.demo.scopeTimeoutMillis", 300));
    private static final InetSocketAddress LOOPBACK_ANY_PORT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
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
        out.println("A peer (a tcpscope client: read() returns -1 only on FIN) records what it saw.");
        out.println();
        List<Row> rows = run(row -> out.printf("  %-44s done%n", row.scenario()));
        out.println();
        printTable(rows, out);
    }

    /** Runs every scenario and returns the observations; {@code progress} sees each row as it is done. */
    public static List<Row> run(java.util.function.Consumer<Row> progress) throws Exception {
        List<Row> rows = new ArrayList<>();
        for (Scenario scenario : inProcessScenarios()) {
            Row row = new Row(scenario.name(), observePlainJdk(scenario), observeTcpscope(scenario));
            progress.accept(row);
            rows.add(row);
        }
        for (String death : List.of("exit", "halt", "kill")) {
            String name = switch (death) {
                case "exit" -> "the process calls System.exit";
                case "halt" -> "the process calls Runtime.halt";
                default -> "the process is killed with SIGKILL";
            };
            Row row = new Row(name, observeChild("jdk", death), observeChild("tcpscope", death));
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

    // ------------------------------------------------------------------ the scenarios

    private static List<Scenario> inProcessScenarios() {
        return List.of(
                scenario("handler completes",
                        (ch, half) -> writeAll(ch, responsePart(PARTS)),
                        (conn, scope, half) -> conn.write(responsePart(PARTS))),
                scenario("handler throws an exception",
                        (ch, half) -> {
                            writeAll(ch, responsePart(2));
                            throw new IOException("the database went away");
                        },
                        (conn, scope, half) -> {
                            conn.write(responsePart(2));
                            throw new IOException("the database went away");
                        }),
                scenario("handler throws an Error",
                        (ch, half) -> {
                            writeAll(ch, responsePart(2));
                            throw new AssertionError("invariant broken");
                        },
                        (conn, scope, half) -> {
                            conn.write(responsePart(2));
                            throw new AssertionError("invariant broken");
                        }),
                scenario("handler aborts (the JDK has only close)",
                        (ch, half) -> {
                            writeAll(ch, responsePart(2));
                            ch.close(); // the JDK has no abort: close() is all there is
                        },
                        (conn, scope, half) -> {
                            conn.write(responsePart(2));
                            conn.abort();
                        }),
                scenario("a subtask fails",
                        (ch, half) -> {
                            CountDownLatch written = new CountDownLatch(1);
                            try (var tasks = StructuredTaskScope.open()) {
                                tasks.fork(() -> {
                                    writeAll(ch, responsePart(2));
                                    written.countDown();
                                    return null;
                                });
                                tasks.fork(() -> {
                                    written.await(); // fail once half the response is out
                                    throw new IOException("the pricing service failed");
                                });
                                tasks.join();
                            }
                        },
                        (conn, scope, half) -> {
                            CountDownLatch written = new CountDownLatch(1);
                            scope.fork(() -> {
                                conn.write(responsePart(2));
                                written.countDown();
                                return null;
                            });
                            scope.fork(() -> {
                                written.await(); // fail once half the response is out
                                throw new IOException("the pricing service failed");
                            });
                            scope.join();
                        }),
                scenario("an exception after join()",
                        (ch, half) -> {
                            try (var tasks = StructuredTaskScope.open()) {
                                tasks.fork(() -> {
                                    writeAll(ch, responsePart(2));
                                    return null;
                                });
                                tasks.join();
                                throw new IllegalStateException("the footer could not be rendered");
                            }
                        },
                        (conn, scope, half) -> {
                            // A scope of its own in try-with-resources: join() succeeded, then the
                            // work failed; close() without finish() aborts.
                            try (var inner = TcpScope.open()) {
                                scope.transfer(conn, inner);
                                inner.fork(() -> {
                                    conn.write(responsePart(2));
                                    return null;
                                });
                                inner.join();
                                throw new IllegalStateException("the footer could not be rendered");
                            }
                        }),
                scenario("the scope times out",
                        (ch, half) -> {
                            try (var tasks = StructuredTaskScope.open(StructuredTaskScope.Joiner.awaitAllSuccessfulOrThrow(),
                                    cf -> cf.withTimeout(SCOPE_TIMEOUT))) {
                                tasks.fork(() -> {
                                    writeAll(ch, responsePart(2));
                                    Thread.sleep(Duration.ofMinutes(1)); // a slow backend
                                    return null;
                                });
                                tasks.join();
                            }
                        },
                        (conn, scope, half) -> {
                            try (var timed = TcpScope.open(SCOPE_TIMEOUT)) {
                                scope.transfer(conn, timed);
                                timed.fork(() -> {
                                    conn.write(responsePart(2));
                                    Thread.sleep(Duration.ofMinutes(1)); // a slow backend
                                    return null;
                                });
                                timed.join();
                            }
                        }),
                new Scenario() {
                    @Override
                    public String name() {
                        return "the server shuts down mid-response";
                    }

                    @Override
                    public void plainJdk(SocketChannel channel, Runnable halfSent) throws Exception {
                        writeAll(channel, responsePart(2));
                        halfSent.run();
                        channel.read(ByteBuffer.allocate(1)); // waits for a request that never comes
                    }

                    @Override
                    public void tcpscope(TcpConnection connection, TcpScope<Object, Void> scope, Runnable halfSent)
                            throws Exception {
                        connection.write(responsePart(2));
                        halfSent.run();
                        connection.read(new byte[1]); // waits for a request that never comes
                    }

                    @Override
                    public boolean shutsDownServer() {
                        return true;
                    }
                });
    }

    @FunctionalInterface
    private interface PlainBody {
        void run(SocketChannel channel, Runnable halfSent) throws Exception;
    }

    @FunctionalInterface
    private interface TcpscopeBody {
        void run(TcpConnection connection, TcpScope<Object, Void> scope, Runnable halfSent) throws Exception;
    }

    private static Scenario scenario(String name, PlainBody plain, TcpscopeBody tcpscope) {
        return new Scenario() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void plainJdk(SocketChannel channel, Runnable halfSent) throws Exception {
                plain.run(channel, halfSent);
            }

            @Override
            public void tcpscope(TcpConnection connection, TcpScope<Object, Void> scope, Runnable halfSent)
                    throws Exception {
                tcpscope.run(connection, scope, halfSent);
            }
        };
    }

    private static void writeAll(SocketChannel channel, byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
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

    // ------------------------------------------------------------------ dying processes

    /** A child JVM connects to our peer, sends half a response and dies as {@code death} says. */
    private static PeerObservation observeChild(String variant, String death) throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK_ANY_PORT)) {
            Process child = new ProcessBuilder(childCommand(variant, death, listener.localAddress().getPort()))
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            try {
                TcpConnection peer = listener.accept(QUIET);
                try (peer) {
                    BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                    String line = lines.readLine();
                    if (!"READY".equals(line)) {
                        throw new IllegalStateException("the demo's child process did not start: " + line);
                    }
                    if (death.equals("kill")) {
                        child.destroyForcibly(); // SIGKILL on Linux
                    }
                    return PeerObservation.readToEnd(peer, QUIET);
                }
            } finally {
                child.destroyForcibly();
                child.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static List<String> childCommand(String variant, String death, int port) {
        String javaBinary = ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String classPath = String.join(java.io.File.pathSeparator,
                codeLocation(Demo.class), codeLocation(TcpConnection.class));
        List<String> command = new ArrayList<>(List.of(javaBinary, "--enable-preview", "--enable-native-access=ALL-UNNAMED"));
        String transport = System.getProperty("tcpscope.transport");
        if (transport != null) { // the child ends its connection on the transport the demo was asked for
            command.add("-Dtcpscope.transport=" + transport);
        }
        command.addAll(List.of("-cp", classPath, DemoChild.class.getName(), variant, death, Integer.toString(port)));
        return command;
    }

    private static String codeLocation(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
