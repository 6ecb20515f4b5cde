package dev.tcpscope;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The child JVM of {@link PortExhaustionTest}, run inside a network namespace whose ephemeral
 * port range holds two ports: it connects to a JDK listener in the namespace (on a port outside
 * that range) again and again, keeping every connection open, until a connect fails.
 *
 * <p>Arguments: the listener's port and the most attempts. Prints {@code CONNECTED <local port>}
 * for each connection, then {@code FAILED <exception class> <message>} (or {@code NO FAILURE}),
 * then {@code DONE}; the connections are aborted on exit.
 */
public final class PortExhaustionChild {

    private PortExhaustionChild() {}

    /** See the class comment. */
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int attempts = Integer.parseInt(args[1]);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        List<TcpConnection> connections = new ArrayList<>();
        List<Socket> accepted = new ArrayList<>();
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(loopback, port));
            String outcome = "NO FAILURE";
            for (int i = 0; i < attempts; i++) {
                try {
                    TcpConnection connection = TcpConnection.connect(new InetSocketAddress(loopback, port),
                            Duration.ofSeconds(30));
                    connections.add(connection);
                    accepted.add(server.accept());
                    System.out.println("CONNECTED " + connection.localAddress().getPort());
                } catch (IOException e) {
                    outcome = "FAILED " + e.getClass().getName() + " " + e.getMessage();
                    break;
                }
            }
            System.out.println(outcome);
        } finally {
            connections.forEach(TcpConnection::abort);
            for (Socket s : accepted) {
                s.close();
            }
        }
        System.out.println("DONE");
    }
}
