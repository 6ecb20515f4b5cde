package dev.tcpscope;

import dev.tcpscope.scope.BlockedReader;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.StructureViolationException;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.atomic.AtomicReference;

import static dev.tcpscope.testing.Patterns.seeded;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which scope a connection belongs to (connected, adopted, transferred), nested scopes, and the
 * clear exceptions that misuse gets.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ScopeOwnershipTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final byte[] PART_ONE = seeded(70_000, 21);
    private static final byte[] PART_TWO = seeded(90_000, 22);

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

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = new byte[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static Void write(TcpConnection connection, byte[] bytes) throws IOException {
        connection.write(bytes);
        return null;
    }

    private static ConnectionEnding.Mode modeOf(TcpScope<?, ?> scope, TcpConnection connection) {
        ConnectionEnding ending = scope.endings().get(connection);
        return ending == null ? null : ending.mode();
    }

    // ---------------------------------------------------------------- transfer and adopt

    @Test
    void transferredConnectionIsUntouchedByTheFirstScopesFailure() throws Exception {
        var boom = new IllegalStateException("the request failed after the transfer");
        var pool = TcpScope.open(); // a longer-lived scope, e.g. for keep-alive connections
        TcpConnection kept;
        CompletableFuture<Seen> seenKept;
        try (pool) {
            var request = TcpScope.open();
            TcpConnection lost;
            CompletableFuture<Seen> seenLost;
            try (request) {
                lost = request.connect(server.address());
                seenLost = server.accept().readToEndAndCloseAsync();
                kept = request.connect(other.address());
                seenKept = other.accept().readToEndAndCloseAsync();
                kept.write(PART_ONE);
                request.transfer(kept, pool);
                request.fork(() -> {
                    lost.write(PART_ONE);
                    throw boom;
                });
                var thrown = assertThrows(StructuredTaskScope.FailedException.class, request::join);
                assertSame(boom, thrown.getCause());
            }
            Await.result(seenLost, "the first peer's read").assertReset(PART_ONE);
            assertEquals(ConnectionEnding.Mode.ABORTED, modeOf(request, lost));
            assertTrue(kept.isOpen(), "the failed scope no longer owns the transferred connection");
            assertFalse(request.endings().containsKey(kept));
            TcpConnection k = kept;
            assertThrows(IllegalStateException.class, () -> request.transfer(k, pool),
                    "only the owning scope may transfer, and only while open");

            pool.fork(() -> write(k, PART_TWO));
            pool.join();
            pool.finish();
        }
        Await.result(seenKept, "the kept peer's read").assertEof(concat(PART_ONE, PART_TWO));
        assertEquals(ConnectionEnding.Mode.GRACEFUL, modeOf(pool, kept));
    }

    @Test
    void transferredConnectionIsAbortedByItsNewScopesFailure() throws Exception {
        var pool = TcpScope.open();
        TcpConnection moved;
        CompletableFuture<Seen> seen;
        try (pool) {
            var request = TcpScope.open();
            try (request) {
                moved = request.connect(server.address());
                seen = server.accept().readToEndAndCloseAsync();
                request.fork(() -> write(moved, PART_ONE));
                request.join();
                request.transfer(moved, pool);
                request.finish();
            } // the request scope succeeded: the moved connection was not its to finish
            assertTrue(moved.isOpen());
            assertTrue(request.endings().isEmpty());
        } // the pool closes without join(): it aborts what it owns
        Await.result(seen, "the peer's read").assertReset(PART_ONE);
        assertEquals(ConnectionEnding.Mode.ABORTED, modeOf(pool, moved));
    }

    @Test
    void transferToAnAbortedScopeAbortsTheConnectionAtOnce() throws Exception {
        var cause = new Exception("the pool gave up");
        var pool = TcpScope.open();
        TcpConnection moved;
        CompletableFuture<Seen> seen;
        try (pool) {
            pool.abort(cause);
            var request = TcpScope.open();
            try (request) {
                moved = request.connect(server.address());
                seen = server.accept().readToEndAndCloseAsync();
                moved.write(PART_ONE);
                request.transfer(moved, pool);
                assertFalse(moved.isOpen(), "the aborted scope's outcome applies to it at once");
                request.join();
            }
        }
        Await.result(seen, "the peer's read").assertReset(PART_ONE);
        assertEquals(ConnectionEnding.Mode.ABORTED, modeOf(pool, moved));
        assertSame(cause, pool.endings().get(moved).cause());
    }

    @Test
    void transferToAClosedScopeIsRefused() throws Exception {
        var closed = TcpScope.open();
        closed.join();
        closed.close();
        var scope = TcpScope.open();
        CompletableFuture<Seen> seen;
        try (scope) {
            TcpConnection connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            assertThrows(IllegalStateException.class, () -> scope.transfer(connection, closed));
            assertThrows(IllegalStateException.class, () -> closed.adopt(connection));
            scope.fork(() -> write(connection, PART_ONE));
            scope.join();
            scope.finish();
        }
        Await.result(seen, "the peer's read").assertEof(PART_ONE);
    }

    @Test
    void adoptedAcceptedConnectionEndsByTheScopesOutcome() throws Exception {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            // Success: the client gets every byte and FIN.
            JdkPeer client = JdkPeer.connect(listener.localAddress());
            CompletableFuture<Seen> seen = client.readToEndAndCloseAsync();
            var scope = TcpScope.open();
            TcpConnection accepted;
            try (scope) {
                accepted = scope.adopt(listener.accept());
                scope.fork(() -> write(accepted, PART_ONE));
                scope.join();
                scope.finish();
            }
            Await.result(seen, "the client's read").assertEof(PART_ONE);
            assertEquals(ConnectionEnding.Mode.GRACEFUL, modeOf(scope, accepted));

            // Failure: the client gets RST.
            JdkPeer failingClient = JdkPeer.connect(listener.localAddress());
            CompletableFuture<Seen> seenFailing = failingClient.readToEndAndCloseAsync();
            var failing = TcpScope.open();
            AtomicReference<TcpConnection> acceptedFailing = new AtomicReference<>();
            assertThrows(IllegalStateException.class, () -> {
                try (failing) {
                    acceptedFailing.set(failing.adopt(listener.accept()));
                    acceptedFailing.get().write(PART_TWO);
                    throw new IllegalStateException("could not serve");
                }
            });
            Await.result(seenFailing, "the failing client's read").assertReset(PART_TWO);
            assertEquals(ConnectionEnding.Mode.ABORTED, modeOf(failing, acceptedFailing.get()));
        }
    }

    @Test
    void adoptingAConnectionOwnedByAnotherScopeIsRefused() throws Exception {
        var first = TcpScope.open();
        var second = TcpScope.open();
        TcpConnection connection = first.connect(server.address());
        CompletableFuture<Seen> seen = server.accept().readToEndAndCloseAsync();
        assertThrows(IllegalStateException.class, () -> second.adopt(connection));
        second.join();
        second.close();
        assertTrue(connection.isOpen(), "the refused adopt did not touch the connection");
        first.fork(() -> write(connection, PART_ONE));
        first.join();
        first.finish();
        first.close();
        Await.result(seen, "the peer's read").assertEof(PART_ONE);
    }

    // ---------------------------------------------------------------- misuse

    @Test
    void forkAfterJoinIsRefusedByTheJdk() throws Exception {
        var scope = TcpScope.open();
        CompletableFuture<Seen> seen;
        try (scope) {
            TcpConnection connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            scope.fork(() -> write(connection, PART_ONE));
            scope.join();
            assertThrows(IllegalStateException.class, () -> scope.fork(() -> write(connection, PART_TWO)));
            scope.finish(); // the refused fork ran nothing: the scope still succeeds
        }
        Await.result(seen, "the peer's read").assertEof(PART_ONE);
    }

    @Test
    void otherThreadsMayNotCloseJoinOrAdopt() throws Exception {
        var scope = TcpScope.open();
        CompletableFuture<Seen> seen;
        try (scope) {
            TcpConnection connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            TcpConnection spare = TcpConnection.connect(other.address());
            JdkPeer sparePeer = other.accept();
            try {
                var refused = Forked.onPlatformThread("intruder", () -> {
                    Throwable close = catching(scope::close);
                    Throwable join = catching(scope::join);
                    Throwable adopt = catching(() -> scope.adopt(spare));
                    Throwable fork = catching(() -> scope.fork(() -> null));
                    return new Throwable[] {close, join, adopt, fork};
                });
                for (Throwable t : Await.result(refused, "the intruder")) {
                    assertInstanceOf(WrongThreadException.class, t);
                }
                assertTrue(connection.isOpen(), "the refused close did nothing");
            } finally {
                spare.abort();
                sparePeer.close();
            }
            scope.fork(() -> write(connection, PART_ONE));
            scope.join(); // the refused join on the other thread did not count as one
            scope.finish();
        }
        Await.result(seen, "the peer's read").assertEof(PART_ONE);
    }

    @FunctionalInterface
    private interface Action {
        void run() throws Exception;
    }

    private static Throwable catching(Action action) {
        try {
            action.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    @Test
    void connectionUsedAfterItsScopeSucceededIsClosed() throws Exception {
        var scope = TcpScope.open();
        TcpConnection connection;
        CompletableFuture<Seen> seen;
        try (scope) {
            connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            scope.fork(() -> write(connection, PART_ONE));
            scope.join();
            scope.finish();
        }
        Await.result(seen, "the peer's read").assertEof(PART_ONE);
        assertThrows(ConnectionClosedException.class, () -> connection.write(PART_TWO));
        assertThrows(ConnectionClosedException.class, () -> connection.read(new byte[10]));
        assertThrows(ConnectionClosedException.class, connection::shutdownOutput);
        assertThrows(IllegalStateException.class, () -> scope.connect(server.address()));
    }

    @Test
    void connectionUsedAfterItsScopeFailedIsClosedWithTheCause() throws Exception {
        var boom = new IllegalStateException("failed");
        var scope = TcpScope.open();
        AtomicReference<TcpConnection> connection = new AtomicReference<>();
        AtomicReference<CompletableFuture<Seen>> seen = new AtomicReference<>();
        assertThrows(IllegalStateException.class, () -> {
            try (scope) {
                connection.set(scope.connect(server.address()));
                seen.set(server.accept().readToEndAndCloseAsync());
                scope.fork(() -> write(connection.get(), PART_ONE));
                scope.join();
                scope.abort(boom);
                throw boom;
            }
        });
        Await.result(seen.get(), "the peer's read").assertReset(PART_ONE);
        var thrown = assertThrows(ConnectionClosedException.class, () -> connection.get().write(PART_TWO));
        assertSame(boom, thrown.getCause());
        assertThrows(ConnectionClosedException.class, () -> connection.get().read(new byte[10]));
    }

    // ---------------------------------------------------------------- nesting

    @Test
    void nestedScopesEndTheirOwnConnections() throws Exception {
        var outer = TcpScope.open();
        TcpConnection outerConnection;
        CompletableFuture<Seen> seenOuter;
        AtomicReference<TcpConnection> innerConnection = new AtomicReference<>();
        AtomicReference<CompletableFuture<Seen>> seenInner = new AtomicReference<>();
        try (outer) {
            outerConnection = outer.connect(server.address());
            seenOuter = server.accept().readToEndAndCloseAsync();
            outer.fork(() -> write(outerConnection, PART_ONE));

            var inner = TcpScope.open();
            assertThrows(StructuredTaskScope.FailedException.class, () -> {
                try (inner) {
                    innerConnection.set(inner.connect(other.address()));
                    seenInner.set(other.accept().readToEndAndCloseAsync());
                    inner.fork(() -> {
                        write(innerConnection.get(), PART_TWO);
                        throw new IllegalStateException("the inner step failed");
                    });
                    inner.join();
                }
            });
            assertEquals(ConnectionEnding.Mode.ABORTED, modeOf(inner, innerConnection.get()));
            outer.join(); // the outer work recovers from the inner failure and succeeds
            outer.finish();
        }
        Await.result(seenInner.get(), "the inner peer's read").assertReset(PART_TWO);
        Await.result(seenOuter, "the outer peer's read").assertEof(PART_ONE);
        assertEquals(ConnectionEnding.Mode.GRACEFUL, modeOf(outer, outerConnection));
    }

    @Test
    void closingTheOuterScopeFirstIsAStructureViolationAndAbortsBoth() throws Exception {
        var outer = TcpScope.open();
        TcpConnection outerConnection = outer.connect(server.address());
        CompletableFuture<Seen> seenOuter = server.accept().readToEndAndCloseAsync();
        outer.fork(() -> write(outerConnection, PART_ONE));
        outer.join();

        var inner = TcpScope.open();
        TcpConnection innerConnection = inner.connect(other.address());
        CompletableFuture<Seen> seenInner = other.accept().readToEndAndCloseAsync();
        BlockedReader reader = BlockedReader.forkedIn(inner, innerConnection);

        assertThrows(StructureViolationException.class, outer::close);
        // A structure violation is a bug, not a success: both scopes' connections are aborted
        // (the inner ones first, so that the inner subtasks blocked on them wake and the JDK's
        // forced close of the inner scope can complete).
        Await.result(seenOuter, "the outer peer's read").assertReset(PART_ONE);
        Await.result(seenInner, "the inner peer's read").assertReset();
        reader.assertWokenByOurSide();
        assertEquals(ConnectionEnding.Mode.ABORTED, modeOf(outer, outerConnection));

        // The inner scope was closed underneath by the JDK; closing it still reports its state.
        assertThrows(IllegalStateException.class, inner::close); // forked, never joined
        assertEquals(ConnectionEnding.Mode.ABORTED, modeOf(inner, innerConnection));
    }
}
