package dev.tcpscope.bench.firstconnection;

import dev.tcpscope.FinishResult;
import dev.tcpscope.TcpConnection;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * The whole life of a program that makes one connection: started in a fresh JVM by
 * {@link FirstConnectionHarness}, it connects to the harness's listener on loopback, sends one
 * byte, reads the byte echoed back and ends the connection gracefully — tcpscope with
 * {@code finish()}, the JDK with its graceful equivalent (shutdownOutput, read to EOF, close) —
 * then exits. Prints how long that took inside {@code main} (milliseconds), so that the harness
 * can tell the connection's own cost from the JVM's start.
 *
 * <pre>java --enable-preview --enable-native-access=ALL-UNNAMED -cp benchmarks.jar \
 *     dev.tcpscope.bench.firstconnection.FirstConnection tcpscope|jdk PORT</pre>
 */
public final class FirstConnection {

    private FirstConnection() {}

    /** Connects to the listener at loopback port {@code args[1]} with {@code args[0]} (tcpscope or jdk). */
    public static void main(String[] args) throws IOException {
        long start = System.nanoTime();
        InetSocketAddress listener = new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(args[1]));
        switch (args[0]) {
            case "tcpscope" -> tcpscope(listener);
            case "jdk" -> jdk(listener);
            default -> throw new IllegalArgumentException("tcpscope or jdk, not " + args[0]);
        }
        System.out.println((System.nanoTime() - start) / 1e6);
    }

    private static void tcpscope(InetSocketAddress listener) throws IOException {
        try (TcpConnection connection = TcpConnection.connect(listener)) {
            byte[] one = {42};
            connection.write(one);
            if (connection.read(one) != 1) {
                throw new IOException("no echo from the listener");
            }
            FinishResult result = connection.finish();
            if (!result.delivered()) {
                throw new IOException("tcpscope did not end gracefully: " + result);
            }
        }
    }

    private static void jdk(InetSocketAddress listener) throws IOException {
        try (SocketChannel channel = SocketChannel.open(listener)) {
            ByteBuffer one = ByteBuffer.allocate(1).put(0, (byte) 42);
            channel.write(one);
            one.clear();
            if (channel.read(one) != 1) {
                throw new IOException("no echo from the listener");
            }
            channel.shutdownOutput();
            one.clear();
            if (channel.read(one) != -1) {
                throw new IOException("the listener sent more than the echo");
            }
        }
    }
}
