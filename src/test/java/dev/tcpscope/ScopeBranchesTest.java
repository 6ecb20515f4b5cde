package dev.tcpscope;

import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.StructuredTaskScope.Joiner;
import java.util.concurrent.StructuredTaskScope.Subtask;
import java.util.concurrent.atomic.AtomicReference;

import static dev.tcpscope.testing.Patterns.seeded;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Branches: a connection opened or adopted in a subtask belongs to that subtask, and a subtask
 * that fails takes down its own connections and whatever it wrote to, through nested scopes and
 * across scopes; threads outside the scope may not connect into it. Each observed by real JDK
 * peers.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ScopeBranchesTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final byte[] MESSAGE = seeded(100_000, 51);
    private static final byte[] HALF = Arrays.copyOf(MESSAGE, MESSAGE.length / 2);

    private JdkPeer.Server server;
    private JdkPeer.Server other;

    @BeforeEach
    void openServers() throws IOException {
        server = JdkPeer.Server.open();
        other = JdkPeer.Server.open();
    }

    @AfterEach
    void closeServers() throws IOException {
        server.close();
        other.close();
    }

    /**
     * With awaitAll(), one subtask connects, writes and succeeds; another adopts an accepted
     * connection and fails without writing to it. The failed one's connection is reset at once
     * and, being its own, is not reported; the successful one's ends with FIN. Checked by
     * breaking the code: with connections always put in the scope's own branch (ScopeLedger.take
     * ignoring the branch), the failed subtask's connection stayed open and finish() ended it
     * with FIN.
     */
    @Test
    void eachSubtaskOwnsWhatItConnectsOrAdopts() throws Exception {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            JdkPeer client = JdkPeer.connect(listener.localAddress());
            CompletableFuture<Seen> seenClient = client.readToEndAndCloseAsync();
            var scope = TcpScope.open(Joiner.awaitAll());
            CompletableFuture<Seen> seenServer;
            Subtask<TcpConnection> succeeding;
            Subtask<TcpConnection> failing;
            AtomicReference<TcpConnection> adopted = new AtomicReference<>();
            try (scope) {
                succeeding = scope.fork(() -> {
                    TcpConnection c = scope.connect(server.address());
                    c.write(MESSAGE);
                    return c;
                });
                seenServer = server.accept().readToEndAndCloseAsync();
                failing = scope.fork(() -> {
                    adopted.set(scope.adopt(listener.accept()));
                    throw new IOException("the adopted exchange failed before answering");
                });
                scope.join();
                assertEquals(Subtask.State.FAILED, failing.state());
                assertFalse(adopted.get().isOpen(), "reset when its subtask failed, before finish()");
                assertTrue(succeeding.get().isOpen());
                scope.finish(); // the failed subtask's own connection is not the scope's to report
            }
            Await.result(seenClient, "the adopted connection's client").assertReset(new byte[0]);
            Await.result(seenServer, "the successful subtask's peer").assertEof(MESSAGE);
            assertEquals(ConnectionEnding.Mode.GRACEFUL, scope.endings().get(succeeding.get()).mode());
            assertEquals(ConnectionEnding.Mode.ABORTED, scope.endings().get(adopted.get()).mode());
        }
    }

    /**
     * A subtask of a scope nested in a subtask writes half a message to the outer scope's
     * connection; the enclosing subtask then fails. The write counts for it: the connection is
     * reset and the outer finish() reports it. Checked by breaking the code: with writes recorded
     * only in the innermost branch (ScopeBranch.wrote not walking the parents), the outer
     * connection got FIN after the half message.
     */
    @Test
    void writesInANestedScopeCountForTheEnclosingSubtask() throws Exception {
        var outer = TcpScope.open(Joiner.awaitAll());
        TcpConnection connection;
        CompletableFuture<Seen> seen;
        UndeliveredException thrown;
        try (outer) {
            connection = outer.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            Subtask<Object> failing = outer.fork(() -> {
                try (var inner = TcpScope.open()) {
                    inner.fork(() -> {
                        connection.write(HALF);
                        return null;
                    });
                    inner.join();
                    inner.finish();
                }
                throw new IllegalStateException("the second half could not be produced");
            });
            outer.join();
            assertEquals(Subtask.State.FAILED, failing.state());
            thrown = assertThrows(UndeliveredException.class, outer::finish);
        }
        Await.result(seen, "the peer's read").assertReset(HALF);
        assertTrue(thrown.getMessage().contains(String.valueOf(connection.remoteAddress())), thrown::getMessage);
    }

    /**
     * A plain StructuredTaskScope inside a subtask: its threads inherit the subtask's branch and
     * write for it. Checked by breaking the code: with the write hook a no-op, the peer got FIN
     * after the half message.
     */
    @Test
    void writesInAPlainStructuredTaskScopeCountForTheEnclosingSubtask() throws Exception {
        var scope = TcpScope.open(Joiner.awaitAll());
        TcpConnection connection;
        CompletableFuture<Seen> seen;
        try (scope) {
            connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            scope.fork(() -> {
                try (var plain = StructuredTaskScope.open()) {
                    plain.fork(() -> {
                        connection.write(HALF);
                        return null;
                    });
                    plain.join();
                }
                throw new IllegalStateException("failed after its helper wrote");
            });
            scope.join();
            assertThrows(UndeliveredException.class, scope::finish);
        }
        Await.result(seen, "the peer's read").assertReset(HALF);
    }

    /**
     * A failed subtask of one scope wrote half a message to a connection of another scope (a
     * pool): that connection is reset too, and the pool's finish() reports it. Checked by
     * breaking the code: with ScopeLedger.taint skipping connections of other scopes, the pool's
     * peer got FIN after the half message.
     */
    @Test
    void aFailedSubtaskResetsAConnectionOfAnotherScopeItWroteTo() throws Exception {
        var pool = TcpScope.open();
        TcpConnection pooled;
        CompletableFuture<Seen> seenPooled;
        UndeliveredException thrown;
        try (pool) {
            pooled = pool.connect(server.address());
            seenPooled = server.accept().readToEndAndCloseAsync();
            var request = TcpScope.open();
            try (request) {
                request.fork(() -> {
                    pooled.write(HALF);
                    throw new IOException("the request failed halfway through the upstream message");
                });
                assertThrows(StructuredTaskScope.FailedException.class, request::join);
            }
            assertFalse(pooled.isOpen(), "reset when the subtask that wrote to it failed");
            pool.join();
            thrown = assertThrows(UndeliveredException.class, pool::finish);
        }
        Await.result(seenPooled, "the pooled peer's read").assertReset(HALF);
        assertEquals(ConnectionEnding.Mode.ABORTED, thrown.endings().get(pooled).mode());
    }

    /**
     * Only the owner and the scope's subtasks may connect or adopt; the refusals touch nothing.
     * Checked by breaking the code: with ScopeLedger.branchOfCaller returning the scope's own
     * branch for any thread, the intruder's connect succeeded.
     */
    @Test
    void threadsOutsideTheScopeMayNotConnectOrAdopt() throws Exception {
        var scope = TcpScope.open();
        CompletableFuture<Seen> seen;
        try (scope) {
            TcpConnection connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            TcpConnection spare = TcpConnection.connect(other.address());
            JdkPeer sparePeer = other.accept();
            try {
                Throwable connect = Forked.start(Forked.Kind.VIRTUAL, "intruder",
                        () -> scope.connect(server.address())).await().failure();
                Throwable adopt = Forked.start(Forked.Kind.PLATFORM, "intruder",
                        () -> scope.adopt(spare)).await().failure();
                assertInstanceOf(WrongThreadException.class, connect);
                assertInstanceOf(WrongThreadException.class, adopt);
                assertTrue(spare.isOpen());
                assertFalse(scope.owns(spare));
            } finally {
                spare.abort();
                sparePeer.close();
            }
            connection.write(MESSAGE);
            scope.join();
            scope.finish();
        }
        Await.result(seen, "the peer's read").assertEof(MESSAGE);
    }
}
