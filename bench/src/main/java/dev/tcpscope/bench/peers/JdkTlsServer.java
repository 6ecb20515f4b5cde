package dev.tcpscope.bench.peers;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;

/**
 * The JDK's thread-per-connection TLS server, {@link JdkServer}'s counterpart over an
 * {@link SSLServerSocket} on loopback: one thread per accepted connection from the given factory
 * ({@code Thread.ofVirtual().factory()} in every TLS benchmark), TCP_NODELAY on every accepted
 * connection, the handshake in the connection's thread (at its first read, the JDK's default).
 * The handler's socket is closed when the handler returns ({@code SSLSocket.close()}:
 * {@code close_notify}, then FIN).
 */
public final class JdkTlsServer implements AutoCloseable {

    /** Serves one connection; returning or throwing closes it. */
    @FunctionalInterface
    public interface Handler {
        void handle(SSLSocket socket) throws IOException;
    }

    private final SSLServerSocket listener;
    private final ThreadFactory threads;
    private final Handler handler;
    private final Set<SSLSocket> open = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;

    private JdkTlsServer(SSLServerSocket listener, ThreadFactory threads, Handler handler) {
        this.listener = listener;
        this.threads = threads;
        this.handler = handler;
        this.acceptor = threads.newThread(this::acceptLoop);
    }

    /**
     * Binds to an ephemeral loopback port with {@code context}'s key, {@code parameters} applied
     * to every accepted connection, and starts accepting on a thread from {@code threads}.
     */
    public static JdkTlsServer start(ThreadFactory threads, SSLContext context, Consumer<SSLParameters> parameters,
                                     Handler handler) throws IOException {
        SSLServerSocket listener = (SSLServerSocket) context.getServerSocketFactory()
                .createServerSocket(0, 4096, InetAddress.getLoopbackAddress());
        SSLParameters p = listener.getSSLParameters();
        parameters.accept(p);
        listener.setSSLParameters(p);
        JdkTlsServer server = new JdkTlsServer(listener, threads, handler);
        server.acceptor.start();
        return server;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.getLocalSocketAddress();
    }

    private void acceptLoop() {
        while (true) {
            SSLSocket socket;
            try {
                socket = (SSLSocket) listener.accept();
                socket.setTcpNoDelay(true);
            } catch (SocketException e) {
                if (listener.isClosed()) {
                    return;
                }
                continue;
            } catch (IOException e) {
                continue;
            }
            open.add(socket);
            threads.newThread(() -> serve(socket)).start();
        }
    }

    private void serve(SSLSocket socket) {
        try (socket) {
            handler.handle(socket);
        } catch (IOException e) {
            // the peer reset, or close() below: the connection is over either way
        } finally {
            open.remove(socket);
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
        for (SSLSocket socket : open) {
            socket.close();
        }
    }
}
