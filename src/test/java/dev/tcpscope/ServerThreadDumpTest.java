package dev.tcpscope;

import dev.tcpscope.server.RunningServer;
import dev.tcpscope.testing.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a thread dump ({@code jcmd PID Thread.dump_to_file -format=json}, run on this JVM) shows of
 * a server's handlers: each handler's scope is a thread container named
 * {@code tcpscope-connection}, beside the server's {@code tcpscope-server-PORT} (the dump prints
 * a container as its name, a slash and its identity, made as it prints). An unnamed task
 * scope would be named by the JDK after its identity ({@code StructuredTaskScopeImpl@hash}), a
 * string made per scope: about 100 bytes of heap for every idle connection.
 *
 * <p>Checked by breaking the code (restored): with the handler's scope opened unnamed again
 * ({@code TcpScope.open()} in {@code ServedConnection}), the dump named three containers after
 * {@code StructuredTaskScopeImpl@...} and none {@code tcpscope-connection}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServerThreadDumpTest {

    @Test
    void eachHandlersScopeIsAContainerNamedTcpscopeConnection(@TempDir Path dir) throws Exception {
        TcpServer server = TcpServer.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).bind();
        CountDownLatch reading = new CountDownLatch(3);
        try (var running = RunningServer.start(server, (connection, scope) -> {
            reading.countDown();
            connection.read(new byte[1]); // parked until the client ends
        })) {
            Socket[] clients = new Socket[3];
            try {
                for (int i = 0; i < clients.length; i++) {
                    clients[i] = new Socket(InetAddress.getLoopbackAddress(), running.port());
                }
                assertTrue(reading.await(Await.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS), "three handlers running");

                Path dump = dir.resolve("threads.json");
                Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                        Long.toString(ProcessHandle.current().pid()), "Thread.dump_to_file", "-format=json",
                        dump.toString()).redirectErrorStream(true).start();
                String said = new String(jcmd.getInputStream().readAllBytes());
                assertEquals(0, jcmd.waitFor(), said);
                String json = Files.readString(dump);

                assertEquals(3, count(json, "\"container\": \"tcpscope-connection\\/"), json);
                assertTrue(json.contains("\"container\": \"tcpscope-server-" + running.port() + "\\/"), json);
                assertFalse(json.contains("StructuredTaskScopeImpl@"), "no scope named after its identity");
            } finally {
                for (Socket client : clients) {
                    if (client != null) {
                        client.close();
                    }
                }
            }
        }
    }

    private static int count(String text, String literal) {
        Matcher m = Pattern.compile(Pattern.quote(literal)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
