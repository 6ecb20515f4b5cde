package dev.tcpscope.bench.peers;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;

/**
 * The JDK's thread-per-connection server: a blocking {@link ServerSocketChannel} on loopback, one
 * thread per accepted connection from the given factory — {@code Thread.ofVirtual().factory()}
 * for the JDK virtual-thread baseline, a platform factory for the platform-thread one. TCP_NODELAY
 * is set on every accepted connection (as the tcpscope and Netty servers here do); the handler's
 * channel is closed when the handler returns (FIN).
 */
public final class JdkServer implements AutoCloseable {

    /** Serves one connection; returning or throwing closes it. */
    @FunctionalInterface
    public interface Handler {
        void handle(SocketChannel channel) throws IOException;
    }

    private final ServerSocketChannel listener;
    private final ThreadFactory threads;
    private final Handler handler;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;

    private JdkServer(ServerSocketChannel listener, ThreadFactory threads, Handler handler) {
        this.listener = listener;
        this.threads = threads;
        this.handler = handler;
        this.acceptor = threads.newThread(this::acceptLoop);
    }

    /** Binds to an ephemeral loopback port and starts accepting on a thread from {@code threads}. */
    public static JdkServer start(ThreadFactory threads, Handler handler) throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
        JdkServer server = new JdkServer(listener, threads, handler);
        server.acceptor.start();
        return server;
    }

    public InetSocketAddress address() throws IOException {
        return (InetSocketAddress) listener.getLocalAddress();
    }

    private void acceptLoop() {
        while (true) {
            SocketChannel channel;
            try {
                channel = listener.accept();
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!listener.isOpen()) {
                    return;
                }
                continue;
            }
            open.add(channel);
            threads.newThread(() -> serve(channel)).start();
        }
    }

    private void serve(SocketChannel channel) {
        try (channel) {
            handler.handle(channel);
        } catch (IOException e) {
            // the peer reset, or close() below: the connection is over either way
        } finally {
            open.remove(channel);
        }
    }

    /** Stops accepting and closes every open connection. */
    @Override
    public void close() throws IOException {
        listener.close();
        try {
            acceptor.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (SocketChannel channel : open) {
            channel.close();
        }
    }
}
