package dev.tcpscope.peers;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;

/**
 * A tcpscope connection and its JDK peer over loopback. {@link #close()} aborts the connection
 * (a no-op if the test ended it) and closes the peer.
 *
 * @param connection the connection under test
 * @param peer       the other end
 */
public record Pair(TcpConnection connection, JdkPeer peer) implements AutoCloseable {

    /** How the connection under test was made. */
    public enum Side {
        /** By {@link TcpConnection#connect}: a client connection. */
        CONNECTED,
        /** By {@link TcpListener#accept}: a server connection. */
        ACCEPTED
    }

    /** {@return a new pair whose connection was made as {@code side} says} */
    public static Pair open(Side side) throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        if (side == Side.CONNECTED) {
            try (ServerSocket server = new ServerSocket(0, 50, loopback)) {
                TcpConnection connection = TcpConnection.connect(
                        new InetSocketAddress(loopback, server.getLocalPort()), Duration.ofSeconds(10));
                try {
                    return new Pair(connection, JdkPeer.accept(server));
                } catch (IOException | RuntimeException e) {
                    connection.abort();
                    throw e;
                }
            }
        }
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(loopback, 0))) {
            JdkPeer peer = JdkPeer.connect(listener.localAddress().getPort());
            try {
                return new Pair(listener.accept(Duration.ofSeconds(10)), peer);
            } catch (IOException | RuntimeException e) {
                peer.close();
                throw e;
            }
        }
    }

    @Override
    public void close() {
        try {
            connection.abort();
        } finally {
            peer.close();
        }
    }
}
