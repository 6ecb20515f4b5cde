package dev.tcpscope.faults;

import dev.tcpscope.examples.Launcher;
import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Fault row "soak": {@value #TOTAL} HTTP/1.0 requests (property {@code faults.soak.requests})
 * through the example server ({@code HttpExampleServer}, in a child JVM started as
 * {@code ./tcpscope serve --port 0} starts it, with the demo's logging file so that 2,500 expected
 * handler failures are not logged) from {@link SoakClient} in another JVM, plain JDK sockets,
 * concurrency {@value #CONCURRENCY}, one request in {@value #FAIL_EVERY} for {@code /fail}. Pass,
 * exact counts: every {@code /ok} response is the complete page followed by FIN, every
 * {@code /fail} response ends with RST, and nothing else happened.
 *
 * <p>Checked to fail with {@code -Dfaults.break=true}, which makes the client ask for a page the
 * server does not have ({@code /missing}, a 404 that ends with FIN) in place of every 100th
 * {@code /ok}: those count as truncated responses and the row fails. (Breaking the server itself
 * would need a change to the example; its endings are checked to fail in ServerEndingsTest and the
 * ending oracle.)
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SoakFaultRow {

    private static final int TOTAL = 25_000;
    private static final int CONCURRENCY = 50;
    private static final int FAIL_EVERY = 10;

    @Test
    void everyGoodResponseCompleteWithFinEveryFailingOneReset() throws Exception {
        int total = Integer.getInteger("faults.soak.requests", TOTAL);
        Map<String, Long> counts = new TreeMap<>();
        double seconds;
        try (ChildProcess server = ChildJvm.of(Launcher.class).twoCarriers()
                .jvmOptions("-Djava.util.logging.config.file=examples/demo-logging.properties")
                .start("serve", "--port", "0")) {
            String url = server.expect("tcpscope");
            int port = Integer.parseInt(url.replaceAll(".*:(\\d+)/$", "$1"));
            try (ChildProcess client = ChildJvm.of(SoakClient.class).twoCarriers()
                    .jvmOptions("-Dfaults.break=" + Boolean.getBoolean("faults.break"))
                    .start(Integer.toString(port), Integer.toString(total), Integer.toString(CONCURRENCY),
                            Integer.toString(FAIL_EVERY))) {
                String[] result = client.expect("RESULT", Duration.ofSeconds(540)).split(" ", 3);
                seconds = Double.parseDouble(result[1]);
                for (String entry : result[2].split(";")) {
                    if (!entry.isBlank()) {
                        counts.put(entry.substring(0, entry.lastIndexOf('=')),
                                Long.parseLong(entry.substring(entry.lastIndexOf('=') + 1)));
                    }
                }
            }
        }
        long failing = total / FAIL_EVERY;
        long good = total - failing;
        Map<String, Long> expected = new TreeMap<>(Map.of("ok FIN complete", good, "fail RST", failing));
        boolean pass = counts.equals(expected);
        FaultReport.row("soak", pass, String.format(
                "%,d requests in %.0f s (%,.0f/s), concurrency %d, client in another JVM: %s (expected %s)",
                total, seconds, total / seconds, CONCURRENCY, counts, expected));
        assertEquals(expected, counts);
    }
}
