package dev.tcpscope;

import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Patterns;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.opentest4j.AssertionFailedError;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.StructuredTaskScope.Subtask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A scope that is opened, connects, and is dropped without {@code close()}: neither its owner
 * thread (which lives on, here the test's own) nor the JDK's structures may keep it reachable,
 * so its connection's Cleaner backstop aborts the connection and the peer sees RST.
 *
 * <p>Checked by breaking the code: with ScopeNesting holding its scope strongly (as the old
 * {@code TcpScope.INNERMOST} thread-local did), the peer saw no reset after 60 s of GCs; with
 * OwningJoiner holding the ledger strongly, neither did the two tests whose scope has a timeout
 * (the JDK's timeout task refers to the task scope, and so to its Joiner, until the timeout).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ScopeBackstopTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    private static final int WRITTEN = 1000;

    /** How a dropped scope is left behind. */
    private interface Abandon {
        void openConnectWriteAndDrop(JdkPeer.Server server, CompletableFuture<ConnectionEnding> ended) throws Exception;
    }

    @Test
    void aScopeDroppedWithoutCloseIsAborted() throws Exception {
        assertBackstopAborts((server, ended) -> {
            TcpScope<Object, Void> scope = TcpScope.open();
            connectAndWrite(scope, server, ended);
        });
    }

    @Test
    void aScopeWithATimeoutDroppedWithoutCloseIsAborted() throws Exception {
        assertBackstopAborts((server, ended) -> {
            TcpScope<Object, Void> scope = TcpScope.open(Duration.ofMinutes(10));
            connectAndWrite(scope, server, ended);
        });
    }

    @Test
    void aScopeWithAFinishedSubtaskDroppedWithoutJoinOrCloseIsAborted() throws Exception {
        assertBackstopAborts((server, ended) -> {
            TcpScope<Object, Void> scope = TcpScope.open(Duration.ofMinutes(10));
            TcpConnection connection = connectAndWrite(scope, server, ended);
            var subtask = scope.fork(() -> connection.bytesWritten());
            // Once it has run, its thread ends: the scope then has no live thread to keep it.
            Await.until("the subtask succeeded", () -> subtask.state() == Subtask.State.SUCCESS);
        });
    }

    private static TcpConnection connectAndWrite(TcpScope<Object, Void> scope, JdkPeer.Server server,
                                                 CompletableFuture<ConnectionEnding> ended) throws IOException {
        TcpConnection connection = scope.connect(server.address());
        connection.onEnded(ended::complete); // refers to the future only, not to the connection
        connection.write(Patterns.bytes(0, WRITTEN));
        return connection;
    }

    private static void assertBackstopAborts(Abandon abandon) throws Exception {
        try (JdkPeer.Server server = JdkPeer.Server.open()) {
            CompletableFuture<ConnectionEnding> ended = new CompletableFuture<>();
            abandon.openConnectWriteAndDrop(server, ended);
            try (JdkPeer peer = server.accept()) {
                CompletableFuture<Seen> seen = peer.readToEndAsync();
                collectUntilDone(seen);
                Seen got = seen.get();
                got.assertReset(Patterns.bytes(0, WRITTEN));
                assertEquals(WRITTEN, got.data().length, got::toString);
                ConnectionEnding ending = ended.get(30, TimeUnit.SECONDS);
                assertEquals(ConnectionEnding.Mode.ABORTED, ending.mode());
                assertTrue(ending.reason().contains("backstop"), ending.reason());
            }
        }
    }

    private static void collectUntilDone(CompletableFuture<Seen> seen) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!seen.isDone()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionFailedError("the dropped scope's connection was not aborted after 60 s of GCs");
            }
            System.gc();
            try {
                seen.get(50, TimeUnit.MILLISECONDS); // returns as soon as the peer sees the end
            } catch (TimeoutException notYet) {
                // collect again
            }
        }
    }
}
