package dev.tcpscope.bench.peers;

import dev.tcpscope.TcpConnection;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * The echo service every echo-based benchmark uses (ping-pong, echo throughput, idle memory):
 * whatever arrives is written back, until the peer ends. Each implementation uses its natural
 * fast path: tcpscope reads into a {@code byte[]} (its recv/send downcalls are critical and take
 * heap arrays without copying), the JDK a direct {@link ByteBuffer} (a heap buffer would be
 * copied through a temporary direct one), the JDK's {@link SSLSocket} its streams with a
 * {@code byte[]} (the only API it has). Netty's echo is in {@link NettyEchoServer}. A tcpscope
 * TLS server uses {@link #tcpscope}: its handlers see plaintext. The idle-memory benchmark gives
 * tcpscope the JDK's kind of buffer instead ({@link #tcpscopeDirect}), so that neither server's
 * echo buffer is on the heap.
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

    /** A {@link JdkTlsServer.Handler} that echoes with a {@code byte[]} of {@code bufferSize}. */
    public static JdkTlsServer.Handler jdkTls(int bufferSize) {
        return socket -> jdkTls(socket, new byte[bufferSize]);
    }

    private static void jdkTls(SSLSocket socket, byte[] buffer) throws IOException {
        InputStream in = socket.getInputStream();
        OutputStream out = socket.getOutputStream();
        int n;
        while ((n = in.read(buffer)) >= 0) {
            out.write(buffer, 0, n);
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

    /**
     * A {@link dev.tcpscope.TcpServer.Handler} that echoes through a direct {@code ByteBuffer} of
     * {@code bufferSize}, the kind of buffer {@link #jdk(int)} uses: for the idle-memory benchmark,
     * so that neither server's echo buffer is on the heap and the live-heap figure compares the
     * libraries, not the two handlers' choice of buffer.
     */
    public static dev.tcpscope.TcpServer.Handler tcpscopeDirect(int bufferSize) {
        return (connection, scope) -> tcpscopeDirect(connection, ByteBuffer.allocateDirect(bufferSize));
    }

    private static void tcpscopeDirect(TcpConnection connection, ByteBuffer buffer) throws IOException {
        connection.noDelay(true);
        while (connection.read(buffer) >= 0) {
            buffer.flip();
            connection.write(buffer);
            buffer.clear();
        }
    }
}
