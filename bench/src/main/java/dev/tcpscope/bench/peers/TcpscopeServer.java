package dev.tcpscope.bench.peers;

import dev.tcpscope.TcpServer;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * A running {@link TcpServer} on an ephemeral loopback port: {@code serve} runs on a platform
 * thread of its own, as a program's main thread would run it. Its options are the library's
 * defaults except two that only matter here: room for more than the default 10,000 connections
 * (the memory harness opens exactly 10,000) and a drain period of 2 s instead of 5, which bounds a
 * benchmark's teardown (the clients end their connections first, so handlers normally return at once).
 */
public final class TcpscopeServer implements AutoCloseable {

    private final TcpServer server;
    private final Thread serving;

    private TcpscopeServer(TcpServer server, TcpServer.Handler handler) {
        this.server = server;
        this.serving = Thread.ofPlatform().daemon().name("tcpscope-bench-serve")
                .unstarted(() -> server.serve(handler));
    }

    public static TcpscopeServer start(TcpServer.Handler handler) throws IOException {
        return start(handler, builder());
    }

    /**
     * As {@link #start(TcpServer.Handler)}, over TLS ({@link TcpServer.Builder#tls(SSLContext, Consumer)}):
     * each connection's handshake completes in its handler's thread before {@code handler} runs.
     */
    public static TcpscopeServer startTls(TcpServer.Handler handler, SSLContext context,
                                          Consumer<SSLParameters> parameters) throws IOException {
        return start(handler, builder().tls(context, parameters));
    }

    private static TcpServer.Builder builder() {
        return TcpServer.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .maxConnections(20_000)
                .drainPeriod(Duration.ofSeconds(2));
    }

    private static TcpscopeServer start(TcpServer.Handler handler, TcpServer.Builder builder) throws IOException {
        TcpServer server = builder.bind();
        TcpscopeServer running = new TcpscopeServer(server, handler);
        running.serving.start();
        return running;
    }

    public InetSocketAddress address() {
        return server.localAddress();
    }

    /** Shuts the server down: open connections get the drain period, then are reset. */
    @Override
    public void close() {
        server.close();
        try {
            serving.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
