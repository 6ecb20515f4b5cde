package dev.tcpscope.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * A "sensor" for close races: a loopback connection of JDK sockets (observers independent of the
 * layer under test), opened right after a socket of the layer is closed so that its descriptor
 * numbers take the closed one's number as soon as it is released. Each end sends a token at once
 * and must receive exactly the other's token, then the end of the stream: a stale operation of
 * the closed socket that sent bytes on the reused number, or consumed some, shows here.
 *
 * <p>Used by {@code CloseRaceTest} and {@code TransferCloseRaceTest}.
 */
public record Sensor(Socket client, Socket server) {

    private static final byte[] CLIENT_TOKEN = "sensor client".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER_TOKEN = "sensor server!".getBytes(StandardCharsets.US_ASCII);

    /** {@return a sensor connected through {@code sensorServer} (127.0.0.1), both tokens sent} */
    public static Sensor open(ServerSocket sensorServer) throws IOException {
        Socket client = new Socket();
        client.connect(new InetSocketAddress(Loopback.IPV4, sensorServer.getLocalPort()), 10_000);
        Socket server = sensorServer.accept();
        client.setSoTimeout(10_000);
        server.setSoTimeout(10_000);
        client.getOutputStream().write(CLIENT_TOKEN);
        server.getOutputStream().write(SERVER_TOKEN);
        return new Sensor(client, server);
    }

    /** {@return {@code n} sensors} */
    public static List<Sensor> open(ServerSocket sensorServer, int n) throws IOException {
        List<Sensor> sensors = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            sensors.add(open(sensorServer));
        }
        return sensors;
    }

    /** Ends both directions and asserts each end received exactly the other's token; closes both. */
    public void verifyAndClose() throws IOException {
        try (client; server) {
            client.shutdownOutput();
            server.shutdownOutput();
            assertArrayEquals(CLIENT_TOKEN, server.getInputStream().readAllBytes(),
                    "the sensor's server end received exactly the client's token");
            assertArrayEquals(SERVER_TOKEN, client.getInputStream().readAllBytes(),
                    "the sensor's client end received exactly the server's token");
        }
    }

    /** Closes both ends without checking (after a failure). */
    public void closeQuietly() {
        try (client; server) {
            // closed by try-with-resources
        } catch (IOException ignored) {
            // nothing to report: a check already failed
        }
    }
}
