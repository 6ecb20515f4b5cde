package dev.tcpscope.bench.peers;

import dev.tcpscope.TcpConnection;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * The echo service every echo-based benchmark uses (ping-pong, echo throughput, idle memory):
 * whatever arrives is written back, until the peer ends. Each implementation uses its natural
 * fast path: tcpscope reads into a {@code byte[]} (its recv/send downcalls are critical and take
 * heap arrays without copying), the JDK a direct {@link ByteBuffer} (a heap buffer would be
 * copied through a temporary direct one). Netty's echo is in {@link NettyEchoServer}.
 */
public final class Echo {

    /** Buffer of the echo loops in the throughput benchmarks: one 16 KiB ping-pong fits. */
    public static final int BUFFER_SIZE = 16 * 1024;

    private Echo() {}

    /** A {@link JdkServer.Handler} that echoes with a direct buffer of {@code bufferSize} bytes. */
    public static JdkServer.Handler jdk(int bufferSize) {
        return channel -> jdk(channel, ByteBuffer.allocateDirect(bufferSize));
    }

    private static void jdk(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (channel.read(buffer) >= 0) {
            buffer.flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            buffer.clear();
        }
    }

    /**
     * A {@link dev.tcpscope.TcpServer.Handler} that echoes with a {@code byte[]} of
     * {@code bufferSize}; returning at the peer's FIN lets the server end the connection
     * gracefully.
     */
    public static dev.tcpscope.TcpServer.Handler tcpscope(int bufferSize) {
        return (connection, scope) -> tcpscope(connection, new byte[bufferSize]);
    }

    private static void tcpscope(TcpConnection connection, byte[] buffer) throws IOException {
        connection.noDelay(true);
        int n;
        while ((n = connection.read(buffer)) >= 0) {
            connection.write(buffer, 0, n);
        }
    }
}
