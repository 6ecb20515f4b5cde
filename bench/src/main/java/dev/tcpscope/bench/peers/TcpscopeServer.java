package dev.tcpscope.bench.peers;

import dev.tcpscope.TcpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;

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
        TcpServer server = TcpServer.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .maxConnections(20_000)
                .drainPeriod(Duration.ofSeconds(2))
                .bind();
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
