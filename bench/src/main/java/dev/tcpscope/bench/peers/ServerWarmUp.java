package dev.tcpscope.bench.peers;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Warms an echo server up before the measured connections are opened: short connections, one
 * after another, each echoing one message and ending (shutdownOutput, read to EOF, close).
 *
 * <p><b>Why.</b> A server with a thread per connection runs each connection's handler in frames
 * entered when the connection arrived. Opened in the benchmark's first second, before the JIT has
 * compiled the handler's loop and the server's frames below it, those frames stay interpreted for
 * the connection's life (the loop migrates to OSR code only now and then, the frames below it
 * never), and HotSpot freezes a virtual thread with an interpreted frame through its slow path.
 * Measured (bench/README, "Not yet tried": echo at 1,000 connections): 8,000 short connections
 * first cut tcpscope's server CPU per message from 25 to 22 µs and the JDK's from 19.8 to 18.6.
 * A long-running server's connections start in compiled code; this measures that server. Every
 * server gets the same warm-up, Netty's included (its handlers are invoked per event and compile
 * early anyway).
 *
 * <p>How many: {@code TCPSCOPE_BENCH_SERVER_WARMUP} in the environment (bench/run sets it per
 * profile, the forks inherit it), else {@value #DEFAULT_CONNECTIONS}.
 */
public final class ServerWarmUp {

    static final int DEFAULT_CONNECTIONS = 8000;

    private ServerWarmUp() {}

    /** {@return how many warm-up connections to make} */
    public static int connections() {
        String value = System.getenv("TCPSCOPE_BENCH_SERVER_WARMUP");
        return value == null || value.isBlank() ? DEFAULT_CONNECTIONS : Integer.parseInt(value.trim());
    }

    /** Makes {@link #connections()} short connections to the echo server at {@code address}. */
    public static void run(InetSocketAddress address, int messageSize) throws IOException {
        int count = connections();
        ByteBuffer message = ByteBuffer.allocateDirect(messageSize);
        ByteBuffer reply = ByteBuffer.allocateDirect(Math.max(messageSize, 1024));
        for (int i = 0; i < count; i++) {
            try (SocketChannel channel = SocketChannel.open(address)) {
                message.clear();
                while (message.hasRemaining()) {
                    channel.write(message);
                }
                reply.clear();
                int echoed = 0;
                while (echoed < messageSize) {
                    int n = channel.read(reply);
                    if (n < 0) {
                        throw new IOException("the server ended a warm-up connection after " + echoed + " bytes");
                    }
                    echoed += n;
                    reply.clear();
                }
                channel.shutdownOutput();
                while (channel.read(reply) >= 0) {
                    reply.clear();
                }
            }
        }
    }
}
