package dev.tcpscope.platform;

import dev.tcpscope.FinishResult;
import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Run by {@link PlatformTest} in a child JVM: uses TcpListener and TcpConnection, which must work
 * without {@code --enable-preview}. Prints "delivered N" on success ("unconfirmed N" on the portable
 * transport, which cannot confirm delivery), then the connection's {@code toString()}; or the
 * exception's class and message.
 */
public final class ConnectionWithoutPreviewMain {

    private ConnectionWithoutPreviewMain() {}

    public static void main(String[] args) {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            server.write(new byte[1000]);
            Thread reader = Thread.ofVirtual().start(() -> {
                try {
                    byte[] buffer = new byte[4096];
                    while (client.read(buffer) >= 0) {
                        // drain to EOF
                    }
                    client.finish();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            FinishResult result = server.finish();
            reader.join();
            System.out.println(switch (result.delivery()) {
                case CONFIRMED -> "delivered " + server.bytesWritten();
                case UNCONFIRMED -> "unconfirmed " + server.bytesWritten();
                case NOT_DELIVERED -> "not delivered";
            });
            System.out.println(server);
        } catch (Throwable t) {
            System.out.println(t.getClass().getName() + ": " + t.getMessage());
        }
    }
}
