package dev.tcpscope.peers;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;
import dev.tcpscope.testing.Patterns;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.ref.Reference;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * The main class of a child JVM that holds two open tcpscope connections and then dies in the
 * way its argument says, so that a test can check what the peers see: a client connection to the
 * test's port, and a connection accepted from the test on its own listener.
 *
 * <p>Arguments: {@code PORT MODE}. Protocol on stdout: {@code LISTENING <port>} (connect to it),
 * then {@code READY} once both connections exist and carry {@link #BYTES} pattern bytes each.
 * Then it reads a line from stdin and ends: {@code exit} calls {@code System.exit(3)},
 * {@code halt} calls {@code Runtime.halt(4)}, {@code wait} waits until killed.
 */
public final class ConnectionHolder {

    /** Bytes written on each connection before READY. */
    public static final int BYTES = 1000;
    /** Exit status of the {@code exit} mode. */
    public static final int EXIT_STATUS = 3;
    /** Exit status of the {@code halt} mode. */
    public static final int HALT_STATUS = 4;

    private ConnectionHolder() {}

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        String mode = args[1];
        InetAddress loopback = InetAddress.getLoopbackAddress();
        TcpListener listener = TcpListener.bind(new InetSocketAddress(loopback, 0));
        System.out.println("LISTENING " + listener.localAddress().getPort());
        System.out.flush();
        TcpConnection client = TcpConnection.connect(new InetSocketAddress(loopback, port), Duration.ofSeconds(30));
        client.write(Patterns.bytes(0, BYTES));
        TcpConnection accepted = listener.accept(Duration.ofSeconds(30));
        accepted.write(Patterns.bytes(0, BYTES));
        System.out.println("READY");
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in)).readLine();
        switch (mode) {
            case "exit" -> System.exit(EXIT_STATUS);
            case "halt" -> Runtime.getRuntime().halt(HALT_STATUS);
            default -> Thread.currentThread().join(); // until killed
        }
        Reference.reachabilityFence(client);
        Reference.reachabilityFence(accepted);
        Reference.reachabilityFence(listener);
    }
}
