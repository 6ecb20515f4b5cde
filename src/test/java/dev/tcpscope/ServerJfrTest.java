package dev.tcpscope;

import dev.tcpscope.server.RunningServer;
import dev.tcpscope.server.ServerIo;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.Seen;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A JFR recording taken around real connections holds their accepted and ended events. */
@Timeout(60)
@SuppressWarnings("try") // peers are closed early on purpose (their FIN ends the server's lingering close)
class ServerJfrTest {

    private static final String ACCEPTED = "dev.tcpscope.ConnectionAccepted";
    private static final String ENDED = "dev.tcpscope.ConnectionEnded";

    @Test
    void recordingHoldsEndedEventsWithTheirModes(@TempDir Path dir) throws Exception {
        TcpServer server = TcpServer.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).bind();
        int port = server.localAddress().getPort();
        String goodPeer;
        String badPeer;
        try (Recording recording = new Recording()) {
            recording.enable(ACCEPTED);
            recording.enable(ENDED);
            recording.start();
            try (var running = RunningServer.start(server, (conn, scope) -> {
                String request = ServerIo.readLine(conn);
                ServerIo.write(conn, "answer");
                if (request.equals("fail")) {
                    throw new IllegalStateException("handler failure on purpose (test)");
                }
            })) {
                try (JdkPeer peer = JdkPeer.connect(port)) {
                    goodPeer = "/127.0.0.1:" + peer.localPort();
                    peer.write("ok\n");
                    Seen received = peer.readToEnd();
                    assertTrue(received.isEof(), received::toString);
                }
                try (JdkPeer peer = JdkPeer.connect(port)) {
                    badPeer = "/127.0.0.1:" + peer.localPort();
                    peer.write("fail\n");
                    Seen received = peer.readToEnd();
                    assertTrue(received.isReset(), received::toString);
                }
                // The ended event is committed before the connection stops counting as active.
                running.awaitStats("both connections ended", s -> s.accepted() == 2 && s.active() == 0);
            }
            recording.stop();
            Path file = dir.resolve("server.jfr");
            recording.dump(file);

            List<RecordedEvent> events = RecordingFile.readAllEvents(file);
            Map<String, RecordedEvent> ended = events.stream()
                    .filter(e -> e.getEventType().getName().equals(ENDED))
                    .collect(Collectors.toMap(e -> e.getString("remoteAddress"), e -> e, (a, b) -> {
                        throw new AssertionError("two ended events for one connection: " + a + b);
                    }));
            List<String> accepted = events.stream()
                    .filter(e -> e.getEventType().getName().equals(ACCEPTED) && e.getInt("localPort") == port)
                    .map(e -> e.getString("remoteAddress"))
                    .toList();
            assertTrue(accepted.containsAll(List.of(goodPeer, badPeer)), () -> "accepted events: " + accepted);

            RecordedEvent good = ended.get(goodPeer);
            assertNotNull(good, () -> "no ended event for " + goodPeer + " in " + ended.keySet());
            assertEquals("GRACEFUL", good.getString("mode"), good::toString);
            assertEquals("none", good.getString("abortKind"), good::toString);
            boolean portable = dev.tcpscope.testing.TransportUnderTest.portable();
            assertEquals(portable ? "portable" : "native", good.getString("transport"), good::toString);
            assertEquals(portable ? "UNCONFIRMED" : "CONFIRMED", good.getString("delivery"), good::toString);
            assertEquals(!portable, good.getBoolean("delivered"), good::toString);
            assertEquals(3, good.getLong("bytesRead"), good::toString);     // "ok\n"
            assertEquals(6, good.getLong("bytesWritten"), good::toString);  // "answer"
            assertEquals(portable ? -1 : 0, good.getLong("unacknowledgedBytes"), good::toString);
            assertTrue(good.getLong("connectionNanos") > 0, good::toString);

            RecordedEvent bad = ended.get(badPeer);
            assertNotNull(bad, () -> "no ended event for " + badPeer + " in " + ended.keySet());
            assertEquals("ABORTED", bad.getString("mode"), bad::toString);
            assertEquals(AbortKind.HANDLER_FAILED.label(), bad.getString("abortKind"), bad::toString);
            assertTrue(!bad.getBoolean("delivered"), bad::toString);
            assertEquals("NOT_DELIVERED", bad.getString("delivery"), bad::toString);
            assertTrue(bad.getString("reason").contains("handler failure on purpose"), bad::toString);
            assertEquals(5, bad.getLong("bytesRead"), bad::toString);       // "fail\n"
        }
    }
}
