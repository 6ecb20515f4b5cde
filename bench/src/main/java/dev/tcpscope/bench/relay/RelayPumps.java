package dev.tcpscope.bench.relay;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * The three relays that {@link dev.tcpscope.bench.RelayThroughput} compares, each a listener
 * that connects every client to one upstream and pumps both directions on virtual threads, until
 * it is closed:
 * <ul>
 *   <li>{@link #splice}: tcpscope, {@link TcpConnection#transferTo} (splice(2) through a pipe on
 *       the native transport: the payload never enters Java memory);</li>
 *   <li>{@link #copyLoop}: tcpscope, the copy loop the relay example had before transferTo
 *       (16 KiB {@code byte[]}, {@code read} then {@code write});</li>
 *   <li>{@link #jdkChannels}: the JDK's {@link SocketChannel}s, a 64 KiB direct buffer per
 *       direction (what a plain Java proxy does).</li>
 * </ul>
 * A relay is for one client (the benchmark's one connection); it passes FIN on as the example does.
 */
public final class RelayPumps {

    /** A running relay. */
    public interface Relay extends AutoCloseable {
        /** {@return where clients connect} */
        InetSocketAddress address();

        @Override
        void close();
    }

    /** How one direction of a tcpscope relay moves bytes. */
    private interface Pump {
        void pump(TcpConnection from, TcpConnection to) throws IOException;
    }

    private RelayPumps() {}

    /** {@return a tcpscope relay whose pumps use transferTo (splice on native)} */
    public static Relay splice(InetSocketAddress upstream) throws IOException {
        return tcpscope(upstream, (from, to) -> {
            from.transferTo(to);
            to.shutdownOutput();
        });
    }

    /** {@return a tcpscope relay whose pumps copy through a 16 KiB byte[] (the example's former loop)} */
    public static Relay copyLoop(InetSocketAddress upstream) throws IOException {
        return tcpscope(upstream, (from, to) -> {
            byte[] buffer = new byte[16 * 1024];
            for (int n; (n = from.read(buffer)) >= 0; ) {
                to.write(buffer, 0, n);
            }
            to.shutdownOutput();
        });
    }

    private static Relay tcpscope(InetSocketAddress upstream, Pump pump) throws IOException {
        TcpListener listener = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread session = Thread.ofVirtual().name("relay").start(() -> {
            try (TcpConnection client = listener.accept(); TcpConnection server = TcpConnection.connect(upstream)) {
                Thread back = Thread.ofVirtual().name("relay back").start(() -> {
                    try {
                        pump.pump(server, client);
                    } catch (IOException ended) {
                        // the benchmark's teardown closed the relay
                    }
                });
                pump.pump(client, server);
                back.join();
                client.finish();
                server.finish();
            } catch (IOException | InterruptedException ended) {
                // closed by the teardown: try-with-resources aborted both connections
            }
        });
        return new Relay() {
            @Override
            public InetSocketAddress address() {
                try {
                    return listener.localAddress();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public void close() {
                listener.close();
                session.interrupt();
            }
        };
    }

    /** {@return a relay on the JDK's channels, copying through a 64 KiB direct buffer each way} */
    public static Relay jdkChannels(InetSocketAddress upstream) throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread session = Thread.ofVirtual().name("jdk relay").start(() -> {
            try (SocketChannel client = listener.accept(); SocketChannel server = SocketChannel.open(upstream)) {
                Thread back = Thread.ofVirtual().name("jdk relay back").start(() -> copy(server, client));
                copy(client, server);
                back.join();
            } catch (IOException | InterruptedException ended) {
                // closed by the teardown
            }
        });
        return new Relay() {
            @Override
            public InetSocketAddress address() {
                try {
                    return (InetSocketAddress) listener.getLocalAddress();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public void close() {
                try {
                    listener.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
                session.interrupt();
            }
        };
    }

    private static void copy(SocketChannel from, SocketChannel to) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);
        try {
            while (from.read(buffer) >= 0) {
                buffer.flip();
                while (buffer.hasRemaining()) {
                    to.write(buffer);
                }
                buffer.clear();
            }
            to.shutdownOutput();
        } catch (IOException ended) {
            // closed by the teardown
        }
    }
}
