package dev.tcpscope;

import dev.tcpscope.peers.Received;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Patterns;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.opentest4j.AssertionFailedError;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    @Test
    void anUnreachableConnectionIsAbortedAndThePeerSeesReset() throws Exception {
        try (JdkPeer.Server server = JdkPeer.Server.open()) {
            CompletableFuture<ConnectionEnding> ended = new CompletableFuture<>();
            openAndForget(server.port(), ended);
            try (JdkPeer peer = server.accept()) {
                CompletableFuture<Received> received = peer.readToEndAsync().thenApply(Received::of);

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
                assertEquals(Seen.End.RESET, got.end(), got::toString);
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
