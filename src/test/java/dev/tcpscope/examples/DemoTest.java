package dev.tcpscope.examples;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tcpscope.examples.PeerObservation.Ending;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

/**
 * The demo's scenarios run as tests: every cell of the table the demo prints is observed live by
 * {@link Demo#run}, and asserted here. With plain JDK sockets the peer sees a clean EOF in every
 * row (4096 bytes for the complete response, 2048 for every failure); with tcpscope only the
 * complete response ends with FIN, and every failure arrives as RST after the 2048 bytes sent.
 *
 * <p>The two TLS rows: the JDK's {@code SSLSocket} sends {@code close_notify} from {@code close()}
 * whatever happened, so its failure reads as a clean end over TLS too; tcpscope's TLS failure is a
 * reset. Checked by making TlsSocket.close send close_notify before the RST: the tcpscope cell of
 * the failing TLS row read a clean EOF after 2048 bytes.
 *
 * <p>The last three rows start child JVMs ({@link DemoChild}), so this also checks that
 * {@code DemoChild.childCommand} finds the classes when the tests run on the module path.
 *
 * <p>The same table is expected on both transports: the children get the demo's
 * {@code tcpscope.transport}, and the peer sends a request that the servers read first, so no
 * server resets before the peer's connect returned (which on portable fails the connect). Checked
 * on portable by dropping the SO_LINGER {1, 0} that {@code PortableTransport.connect} sets: the
 * three process-death rows fail (the child's FIN after 2048 bytes), the native run stays green.
 */
class DemoTest {

    private static final int COMPLETE = Demo.PARTS * Demo.PART; // 4096
    private static final int HALF = 2 * Demo.PART;              // 2048

    /** The rows in the order the demo prints them. */
    private static final List<String> SCENARIOS = List.of(
            "handler completes",
            "handler throws an exception",
            "handler throws an Error",
            "handler aborts (the JDK has only close)",
            "a subtask fails",
            "an exception after join()",
            "the scope times out",
            "the server shuts down mid-response",
            "over TLS: handler completes",
            "over TLS: handler throws an exception",
            "the process calls System.exit",
            "the process calls Runtime.halt",
            "the process is killed with SIGKILL");

    @TestFactory
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    List<DynamicTest> everyObservedOutcome() throws Exception {
        List<Demo.Row> progress = new ArrayList<>();
        List<Demo.Row> rows = Demo.run(progress::add);

        // Runs here, so that a missing or extra row fails the factory itself.
        assertEquals(SCENARIOS, rows.stream().map(Demo.Row::scenario).toList(), "the demo's scenarios");
        assertEquals(rows, progress, "progress sees every row, in order");

        List<DynamicTest> tests = new ArrayList<>();
        for (Demo.Row row : rows) {
            boolean completes = row.scenario().endsWith("handler completes"); // over TLS too
            tests.add(DynamicTest.dynamicTest(row.scenario(), () -> assertAll(
                    () -> assertSaw(row, Demo.Row::plainJdk, "plain JDK", Ending.FIN, completes ? COMPLETE : HALF),
                    () -> assertSaw(row, Demo.Row::tcpscope, "tcpscope",
                            completes ? Ending.FIN : Ending.RST, completes ? COMPLETE : HALF))));
        }
        return tests;
    }

    private static void assertSaw(Demo.Row row, Function<Demo.Row, PeerObservation> column, String columnName,
            Ending ending, long bytes) {
        PeerObservation seen = column.apply(row);
        String where = row.scenario() + ", " + columnName + " (peer saw: " + seen.describe() + ")";
        assertAll(
                () -> assertEquals(ending, seen.ending(), where + ": ending"),
                () -> assertEquals(bytes, seen.bytes(), where + ": bytes"),
                // The response's bytes themselves, not just their count: parts 'a', 'b', ...
                () -> assertEquals(expectedStart(bytes), seen.first(), where + ": first bytes"));
    }

    /** {@return the first 200 bytes of the response, as the peer records them} */
    private static String expectedStart(long bytes) {
        byte[] response = Demo.responsePart(Demo.PARTS);
        return new String(response, 0, (int) Math.min(200, bytes), java.nio.charset.StandardCharsets.ISO_8859_1);
    }
}
