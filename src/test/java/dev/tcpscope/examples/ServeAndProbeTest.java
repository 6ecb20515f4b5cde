package dev.tcpscope.examples;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;
import dev.tcpscope.examples.ExampleProcess.Result;
import dev.tcpscope.examples.ExampleProcess.Server;
import dev.tcpscope.testing.TransportUnderTest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code serve} and {@code probe} end to end, each in its own JVM as {@code ./tcpscope} runs them:
 * the probe reports FIN for {@code /ok} and RST for {@code /fail} and {@code /slow}; bad command
 * lines get a one-line error and the usage, never a stack trace; the server stops on SIGTERM
 * within its bounded shutdown, even with a stalled handler in flight.
 *
 * <p>Runs on both transports (the example JVMs inherit {@code tcpscope.transport}); two rows
 * assert the portable transport's documented differences: a taken port's message, and a server
 * that resets before the JDK's connect returns.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ServeAndProbeTest {

    private static final String HEAD = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n";

    /** The server every probe talks to; SIGTERMed by the last test. */
    private static Server server;

    @BeforeAll
    static void startServer() throws Exception {
        // /slow stalls past a 1 s handler time limit.
        server = Server.start("--port", "0", "--time-limit", "1");
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private static Result probe(String path) throws Exception {
        return ExampleProcess.run("probe", "127.0.0.1:" + server.port, "--send", "GET " + path + " HTTP/1.0\\r\\n\\r\\n");
    }

    /** {@return the body of /ok, or the part /fail sends: "line N of 100" lines} */
    private static String lines(int count) {
        StringBuilder body = new StringBuilder();
        for (int line = 1; line <= count; line++) {
            body.append("line ").append(line).append(" of 100\n");
        }
        return body.toString();
    }

    private static void assertProbed(Result result, int exitCode, String ending, String description, String firstLine) {
        List<String> out = result.stdout().lines().toList();
        assertAll(result.toString(),
                () -> assertEquals(exitCode, result.exitCode(), "exit code"),
                () -> assertEquals(1, out.size(), "one line of report"),
                () -> assertTrue(out.getFirst().startsWith(ending + ": " + description + " (connected in "),
                        "report: " + out.getFirst()),
                () -> assertTrue(out.getFirst().endsWith("; first line: " + firstLine), "first line of the response"),
                () -> assertEquals("", result.stderr(), "stderr"));
    }

    @Test
    @Order(1)
    void serverPrintsItsUrl() {
        assertEquals("http://127.0.0.1:" + server.port + "/", server.url);
        assertTrue(server.port > 0, "port 0 picked a real port");
    }

    @Test
    @Order(2)
    void okEndsWithFinAfterTheWholeBody() throws Exception {
        int bytes = (HEAD + lines(100)).length();
        assertProbed(probe("/ok"), 0, "FIN", "clean EOF after " + bytes + " bytes", "HTTP/1.0 200 OK");
    }

    @Test
    @Order(3)
    void failEndsWithRstAfterThePartSent() throws Exception {
        int bytes = (HEAD + lines(40)).length();
        assertProbed(probe("/fail"), 1, "RST", "connection reset after " + bytes + " bytes", "HTTP/1.0 200 OK");
    }

    @Test
    @Order(4)
    void slowIsResetAtTheHandlerTimeLimit() throws Exception {
        assertProbed(probe("/slow"), 1, "RST", "connection reset after " + HEAD.length() + " bytes", "HTTP/1.0 200 OK");
    }

    @Test
    @Order(5)
    void unknownPathIsA404EndingWithFin() throws Exception {
        Result result = probe("/nowhere");
        String body = "no such page: /nowhere; try /ok, /fail or /slow\n";
        String head = HEAD.replace("200 OK", "404 Not Found");
        assertProbed(result, 0, "FIN", "clean EOF after " + (head + body).length() + " bytes", "HTTP/1.0 404 Not Found");
    }

    @Test
    @Order(6)
    void probeOfAPeerThatNeverEndsReportsItStillOpenAtTheTimeout() throws Exception {
        // A listener that never accepts: the kernel completes the handshake and the connection
        // waits in the backlog, silent, until the listener closes after the probe has ended.
        try (TcpListener silent = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Result result = ExampleProcess.run("probe", "127.0.0.1:" + silent.localAddress().getPort(),
                    "--send", "hello", "--timeout", "3");
            List<String> out = result.stdout().lines().toList();
            assertAll(result.toString(),
                    () -> assertEquals(3, result.exitCode(), "exit code"),
                    () -> assertEquals(1, out.size(), "one line of report"),
                    () -> assertTrue(out.getFirst().startsWith("OPEN: still open after 0 bytes (connected in "),
                            out.getFirst()),
                    () -> assertEquals("", result.stderr(), "stderr"));
        }
    }

    @Test
    @Order(7)
    void probeOfAPortWithNothingListeningFailsInOneLine() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        } // closed: nothing listens there now
        Result result = ExampleProcess.run("probe", "127.0.0.1:" + port);
        assertAll(result.toString(),
                () -> assertNotEquals(0, result.exitCode(), "exit code"),
                () -> assertEquals(4, result.exitCode(), "exit code for 'could not connect'"),
                () -> assertEquals(1, result.stderrLines().size(), "one line on stderr"),
                () -> assertTrue(result.stderr().startsWith("tcpscope probe: cannot connect to 127.0.0.1:" + port + ": "),
                        "the error names the target"),
                () -> assertFalse(result.stderr().contains("\tat "), "no stack trace"),
                () -> assertEquals("", result.stdout(), "stdout"));
    }

    @Test
    @Order(8)
    void aTimeoutTooShortToConnectGivesOneLineNotAStackTrace() throws Exception {
        // 100 µs: the connect or the read runs out of time (which one depends on the machine).
        try (TcpListener silent = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Result result = ExampleProcess.run("probe", "127.0.0.1:" + silent.localAddress().getPort(),
                    "--timeout", "0.0001");
            assertAll(result.toString(),
                    () -> assertTrue(result.exitCode() == 3 || result.exitCode() == 4, "exit 3 (open) or 4 (no connection)"),
                    () -> assertEquals(1, result.stdout().lines().count() + result.stderrLines().size(), "one line"),
                    () -> assertFalse(result.stderr().contains("\tat "), "no stack trace"));
        }
    }

    static Stream<Arguments> badCommandLines() {
        return Stream.of(
                Arguments.of(List.of("frobnicate"), "tcpscope: unknown command 'frobnicate'"),
                Arguments.of(List.of("demo", "now"), "tcpscope: demo takes no arguments"),
                Arguments.of(List.of("probe"), "tcpscope: probe needs HOST:PORT"),
                Arguments.of(List.of("probe", "127.0.0.1"), "tcpscope: probe: expected HOST:PORT, got '127.0.0.1'"),
                Arguments.of(List.of("probe", "127.0.0.1:99999"),
                        "tcpscope: bad port '99999': expected a number from 1 to 65535"),
                Arguments.of(List.of("probe", "127.0.0.1:http"),
                        "tcpscope: bad port 'http': expected a number from 1 to 65535"),
                Arguments.of(List.of("probe", "127.0.0.1:0"), // only a server may ask for port 0
                        "tcpscope: bad port '0': expected a number from 1 to 65535"),
                Arguments.of(List.of("probe", "nosuchhost.invalid:80"),
                        "tcpscope: probe: cannot resolve host 'nosuchhost.invalid'"),
                Arguments.of(List.of("probe", "127.0.0.1:9", "--timeout", "soon"),
                        "tcpscope: --timeout: expected a positive number of seconds, got 'soon'"),
                Arguments.of(List.of("probe", "127.0.0.1:9", "--send", "GET\\q"), "tcpscope: --send: unknown escape \\q"),
                Arguments.of(List.of("probe", "127.0.0.1:9", "--send"), "tcpscope: --send needs a value"),
                Arguments.of(List.of("serve", "--port", "-1"), "tcpscope: bad port '-1': expected a number from 0 to 65535"),
                Arguments.of(List.of("serve", "--port", "65536"),
                        "tcpscope: bad port '65536': expected a number from 0 to 65535"),
                Arguments.of(List.of("serve", "--time-limit", "0"),
                        "tcpscope: --time-limit: expected a positive number of seconds, got '0'"),
                Arguments.of(List.of("serve", "--time-limit"), "tcpscope: --time-limit needs a value"),
                Arguments.of(List.of("serve", "--verbose"), "tcpscope: serve: unknown option '--verbose'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badCommandLines")
    @Order(9)
    void badCommandLineGivesOneLineAndTheUsage(List<String> args, String error) throws Exception {
        Result result = ExampleProcess.run(args.toArray(String[]::new));
        List<String> err = result.stderrLines();
        assertAll(result.toString(),
                () -> assertEquals(2, result.exitCode(), "exit code"),
                () -> assertEquals(error, err.getFirst(), "the one-line error"),
                () -> assertEquals(Launcher.USAGE.lines().toList(), err.subList(1, err.size()), "then the usage"),
                () -> assertFalse(result.stderr().contains("\tat "), "no stack trace"),
                () -> assertEquals("", result.stdout(), "stdout"));
    }

    @Test
    @Order(10)
    void serveOnATakenPortFailsInOneLine() throws Exception {
        Result result = ExampleProcess.run("serve", "--port", Integer.toString(server.port));
        assertAll(result.toString(),
                () -> assertEquals(1, result.exitCode(), "exit code"),
                () -> assertEquals(1, result.stderrLines().size(), "one line on stderr"),
                () -> assertTrue(result.stderr().startsWith("tcpscope: serve: cannot listen on 127.0.0.1:" + server.port + ": "),
                        "the error names the address"),
                // The reason: the native transport names the errno, the portable one gives the
                // JDK's BindException text only (README, "Transports": messages are the JDK's).
                () -> assertTrue(result.stderr().contains(TransportUnderTest.portable()
                        ? ": Address already in use" : ": EADDRINUSE (Address already in use)"),
                        "and the reason"),
                () -> assertFalse(result.stderr().contains("\tat "), "no stack trace"),
                () -> assertEquals("", result.stdout(), "stdout"));
    }

    @Test
    @Order(11)
    void probeOfAServerThatResetsAtOnceReportsRst() throws Exception {
        // The server sends a line and resets, maybe before the probe's text arrives, maybe after:
        // either way the probe reports the reset after that line, never an I/O error.
        TcpListener listener = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread resetter = Thread.ofVirtual().start(() -> {
            try (TcpConnection connection = listener.accept(Duration.ofSeconds(ExampleProcess.TIMEOUT_SECONDS))) {
                connection.write("bye\n".getBytes(StandardCharsets.US_ASCII));
                connection.abort();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try {
            Result result = ExampleProcess.run("probe", "127.0.0.1:" + listener.localAddress().getPort(),
                    "--send", "hello\\r\\n");
            List<String> out = result.stdout().lines().toList();
            if (TransportUnderTest.portable() && !out.isEmpty() && out.getFirst().startsWith("RST: connection reset during connect")) {
                // The documented portable difference (README, "Transports"): the reset came before
                // the JDK's connect returned, which then fails and loses the "bye". Still an RST,
                // exit code 1, one line, no stack trace. (Checked by removing the probe's catch of
                // ConnectionResetException around connect: "Exception in thread main" on stderr.)
                assertAll(result.toString(),
                        () -> assertEquals(1, result.exitCode(), "exit code"),
                        () -> assertEquals(List.of("RST: connection reset during connect; what the server sent first is lost"),
                                out.stream().map(line -> line.replaceFirst(" \\(after \\d+ ms\\)$", "")).toList(), "report"),
                        () -> assertEquals("", result.stderr(), "stderr"));
            } else {
                assertProbed(result, 1, "RST", "connection reset after 4 bytes", "bye");
            }
        } finally {
            listener.close(); // wakes the resetter if the probe never came
            resetter.join();
        }
    }

    @Test
    @Order(12)
    void helpPrintsTheUsage() throws Exception {
        Result result = ExampleProcess.run("--help");
        assertAll(result.toString(),
                () -> assertEquals(0, result.exitCode(), "exit code"),
                () -> assertEquals(Launcher.USAGE.lines().toList(), result.stdout().lines().toList(), "usage"),
                () -> assertEquals("", result.stderr(), "stderr"));
    }

    @Test
    @Order(13)
    void serverWithAStalledHandlerStopsOnSigtermAndResetsIt() throws Exception {
        // A handler time limit of a minute: only the shutdown can end this /slow request.
        try (Server stalled = Server.start("--port", "0", "--time-limit", "60");
             TcpConnection client = TcpConnection.connect(
                     new InetSocketAddress(InetAddress.getLoopbackAddress(), stalled.port))) {
            client.write("GET /slow HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            // Once the whole head has arrived, the handler is in its stall.
            byte[] head = new byte[HEAD.length()];
            client.readTimeout(Duration.ofSeconds(ExampleProcess.TIMEOUT_SECONDS));
            for (int n = 0; n < head.length; ) {
                int read = client.read(head, n, head.length - n);
                assertTrue(read > 0, "the head of /slow arrives before any ending");
                n += read;
            }
            assertEquals(HEAD, new String(head, StandardCharsets.US_ASCII));

            stalled.process.destroy(); // SIGTERM
            PeerObservation seen = PeerObservation.readToEnd(client, Duration.ofSeconds(ExampleProcess.TIMEOUT_SECONDS));
            assertEquals(new PeerObservation(PeerObservation.Ending.RST, 0, ""), seen,
                    "the stalled response is reset by the shutdown, never ended with FIN");
            // The server exits after its drain period.
            assertEquals(143, stalled.awaitExit(), "ended by SIGTERM (128 + 15)");
            assertFalse(stalled.stderr().contains("\tat "), "no stack trace:\n" + stalled.stderr());
        }
    }

    @Test
    @Order(14)
    void serverStopsOnSigterm() throws Exception {
        server.process.destroy(); // SIGTERM
        // The server exits within its bounded shutdown.
        assertEquals(143, server.awaitExit(), "ended by SIGTERM (128 + 15)");
    }
}
