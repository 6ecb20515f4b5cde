package dev.tcpscope.peers;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;
import dev.tcpscope.testing.JdkPeer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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
        if (side == Side.CONNECTED) {
            try (JdkPeer.Server server = JdkPeer.Server.open()) {
                TcpConnection connection = TcpConnection.connect(server.address(), Duration.ofSeconds(10));
                try {
                    return new Pair(connection, server.accept());
                } catch (IOException | RuntimeException e) {
                    connection.abort();
                    throw e;
                }
            }
        }
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
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
