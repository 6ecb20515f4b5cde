package dev.tcpscope;

import dev.tcpscope.connection.SocketBaseline;
import dev.tcpscope.peers.JdkPeer;
import dev.tcpscope.peers.Patterns;
import dev.tcpscope.peers.Received;
import dev.tcpscope.testing.OpenSockets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.opentest4j.AssertionFailedError;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Cleaner backstop: a connection that became unreachable without an ending is aborted. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConnectionBackstopTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();
    @RegisterExtension
    static final SocketBaseline SOCKETS_PER_TEST = new SocketBaseline();

    @Test
    void anUnreachableConnectionIsAbortedAndThePeerSeesReset() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            CompletableFuture<ConnectionEnding> ended = new CompletableFuture<>();
            openAndForget(server.getLocalPort(), ended);
            try (JdkPeer peer = JdkPeer.accept(server)) {
                CompletableFuture<Received> received = peer.readAllAsync();

                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
                while (!received.isDone()) {
                    if (System.nanoTime() - deadline > 0) {
                        throw new AssertionFailedError("the abandoned connection was not aborted after 40 s of GCs");
                    }
                    System.gc();
                    try {
                        received.get(50, TimeUnit.MILLISECONDS); // returns as soon as the peer sees the end
                    } catch (TimeoutException notYet) {
                        // collect again
                    }
                }

                Received got = received.get();
                assertEquals(Received.End.RESET, got.end(), got::toString);
                assertTrue(got.isPattern(1000), got::toString);
                ConnectionEnding ending = ended.get(30, TimeUnit.SECONDS);
                assertEquals(ConnectionEnding.Mode.ABORTED, ending.mode());
                assertTrue(ending.reason().contains("backstop"), ending.reason());
                assertEquals(1000, ending.bytesWritten());
            }
        }
    }

    /** Connects, writes, and drops every reference to the connection. */
    private static void openAndForget(int port, CompletableFuture<ConnectionEnding> ended) throws IOException {
        TcpConnection conn = TcpConnection.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                Duration.ofSeconds(10));
        conn.onEnded(ended::complete); // refers to the future only, not to the connection
        conn.write(Patterns.bytes(0, 1000));
    }
}
