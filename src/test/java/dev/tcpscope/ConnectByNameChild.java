package dev.tcpscope;

import java.time.Duration;

/**
 * The child JVM of {@link ConnectByNameTest}, started with {@code -Djdk.net.hosts.file} naming a
 * file where one host name has two addresses, the first of which refuses. Arguments: the host
 * name, the port, and {@code connection} or {@code scope} (which public method to use). It
 * connects by name, writes {@code hello}, ends gracefully and prints {@code CONNECTED <remote
 * address>}; on any failure it prints {@code FAILED <exception>}.
 */
public final class ConnectByNameChild {

    private ConnectByNameChild() {}

    /** See the class comment. */
    public static void main(String[] args) {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        try {
            String remote;
            if (args[2].equals("scope")) {
                try (var scope = TcpScope.open()) {
                    TcpConnection conn = scope.connect(host, port, Duration.ofSeconds(30));
                    conn.write("hello".getBytes());
                    remote = String.valueOf(conn.remoteAddress());
                    scope.join();
                    scope.finish();
                }
            } else {
                try (TcpConnection conn = TcpConnection.connect(host, port)) {
                    conn.write("hello".getBytes());
                    remote = String.valueOf(conn.remoteAddress());
                    conn.finish();
                }
            }
            System.out.println("CONNECTED " + remote);
        } catch (Exception e) {
            System.out.println("FAILED " + e);
        }
    }
}
