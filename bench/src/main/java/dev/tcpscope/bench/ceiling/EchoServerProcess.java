package dev.tcpscope.bench.ceiling;

import dev.tcpscope.bench.peers.Echo;
import dev.tcpscope.bench.peers.JdkServer;
import dev.tcpscope.bench.peers.NettyEchoServer;
import dev.tcpscope.bench.peers.NettyTransport;
import dev.tcpscope.bench.peers.ServerWarmUp;
import dev.tcpscope.bench.peers.TcpscopeServer;

import java.io.InputStream;
import java.net.InetSocketAddress;

/**
 * One echo server of the echo benchmark alone in its JVM, so that its CPU use can be read from
 * {@code /proc/PID/stat} apart from the load client's: the same servers as
 * {@link dev.tcpscope.bench.EchoThroughput} (same handlers, same 16 KiB echo buffer, Netty with one
 * event loop per core). Warms the server up ({@link ServerWarmUp}), prints {@code port N}, then serves until its standard
 * input ends, and exits.
 *
 * <pre>java ... EchoServerProcess tcpscope|jdk-virtual|netty-epoll|netty-io_uring</pre>
 */
public final class EchoServerProcess {

    private EchoServerProcess() {}

    public static void main(String[] args) throws Exception {
        String server = args[0];
        InetSocketAddress address = switch (server) {
            case "tcpscope" -> TcpscopeServer.start(Echo.tcpscope(Echo.BUFFER_SIZE)).address();
            case "jdk-virtual" -> JdkServer.start(Thread.ofVirtual().factory(), Echo.jdk(Echo.BUFFER_SIZE)).address();
            case "netty-epoll", "netty-io_uring" -> NettyEchoServer.start(
                    NettyTransport.of(server.substring("netty-".length())), Runtime.getRuntime().availableProcessors())
                    .address();
            default -> throw new IllegalArgumentException("unknown server: " + server);
        };
        ServerWarmUp.run(address, 1024); // before the load client's connections: see ServerWarmUp
        System.out.println("port " + address.getPort());
        System.out.flush();
        InputStream in = System.in;
        while (in.read() >= 0) {
            // whatever the parent writes is ignored: only the end of input counts
        }
        // Exit without a shutdown: the client has closed its connections by now, and a server
        // shutdown would only add its drain period to the run.
        System.exit(0);
    }
}
