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
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
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
 * The edges of {@link TcpScope#finish()}, each observed by a real JDK peer: finish() before
 * join(), after join() threw, after abort(), twice; what is refused after it; an exception
 * between finish() and close().
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ScopeFinishEdgesTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final byte[] MESSAGE = seeded(120_000, 31);
    /** Receive buffer of a peer that does not read: it stops acknowledging soon. */
    private static final int SMALL_RECEIVE_BUFFER = 4096;

    private JdkPeer.Server server;

    @BeforeEach
    void openServer() throws IOException {
        server = JdkPeer.Server.open();
    }

    @AfterEach
    void closeServer() throws IOException {
        server.close();
    }

    /**
     * Refused, and nothing changes: the connection stays open, and close() without a later
     * finish() aborts it. Checked by breaking the code: with ScopeOutcome letting finish() run
     * before join(), the peer saw EOF.
     */
    @Test
    void finishBeforeJoinIsRefusedAndEndsNothing() throws Exception {
        var scope = TcpScope.open();
        TcpConnection connection;
        CompletableFuture<Seen> seen;
        try (scope) {
            connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            connection.write(MESSAGE);
            var refused = assertThrows(IllegalStateException.class, scope::finish);
            assertTrue(refused.getMessage().contains("before join()"), refused::getMessage);
            assertTrue(connection.isOpen(), "a refused finish() ends nothing");
        }
        Await.result(seen, "the peer's read").assertReset(MESSAGE);
        assertEquals(ConnectionEnding.Mode.ABORTED, scope.endings().get(connection).mode());
    }

    /** The refusal changes nothing: once join() has returned, finish() works. */
    @Test
    void finishAfterARefusedFinishAndAJoinSucceeds() throws Exception {
        var scope = TcpScope.open();
        CompletableFuture<Seen> seen;
        try (scope) {
            TcpConnection connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            connection.write(MESSAGE);
            assertThrows(IllegalStateException.class, scope::finish);
            scope.join();
            scope.finish();
        }
        Await.result(seen, "the peer's read").assertEof(MESSAGE);
    }

    /**
     * join() threw: the scope failed, its connection was aborted before join() threw, and
     * finish() says so (with join's failure as the cause) instead of ending anything.
     */
    @Test
    void finishAfterJoinThrewIsRefused() throws Exception {
        var failure = new IOException("a subtask failed");
        var scope = TcpScope.open();
        TcpConnection connection;
        CompletableFuture<Seen> seen;
        try (scope) {
            connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            connection.write(MESSAGE);
            scope.fork(() -> {
                throw failure;
            });
            var joinFailure = assertThrows(StructuredTaskScope.FailedException.class, scope::join);
            assertFalse(connection.isOpen(), "aborted before join() threw");
            var refused = assertThrows(IllegalStateException.class, scope::finish);
            assertTrue(refused.getMessage().contains("join() threw"), refused::getMessage);
            assertSame(joinFailure, refused.getCause());
        }
        Await.result(seen, "the peer's read").assertReset(MESSAGE);
    }

    /** scope.abort() after join(): finish() is no longer possible, and names the cause. */
    @Test
    void finishAfterAbortIsRefused() throws Exception {
        var cause = new IllegalStateException("the reply made no sense");
        var scope = TcpScope.open();
        CompletableFuture<Seen> seen;
        try (scope) {
            TcpConnection connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            connection.write(MESSAGE);
            scope.join();
            scope.abort(cause);
            var refused = assertThrows(IllegalStateException.class, scope::finish);
            assertSame(cause, refused.getCause());
        }
        Await.result(seen, "the peer's read").assertReset(MESSAGE);
    }

    @Test
    void finishTwiceRepeatsASuccess() throws Exception {
        var scope = TcpScope.open();
        CompletableFuture<Seen> seen;
        try (scope) {
            TcpConnection connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            connection.write(MESSAGE);
            scope.join();
            scope.finish();
            scope.finish();
        }
        Await.result(seen, "the peer's read").assertEof(MESSAGE);
    }

    /**
     * The second finish() throws the same UndeliveredException again. Checked by breaking the
     * code: with ScopeOutcome forgetting the outcome, the second call returned normally.
     */
    @Test
    void finishTwiceRepeatsTheSameUndeliveredException() throws Exception {
        byte[] large = seeded(256 * 1024, 32);
        try (JdkPeer.Server stuck = JdkPeer.Server.open(SMALL_RECEIVE_BUFFER)) {
            var scope = TcpScope.open().finishTimeout(Duration.ofMillis(300));
            JdkPeer peer;
            try (scope) {
                TcpConnection connection = scope.connect(stuck.address());
                SocketOptionsOf.socket(connection).options().setInt(dev.tcpscope.internal.socket.SocketOptions.SOL_SOCKET,
                        dev.tcpscope.internal.socket.SocketOptions.SO_SNDBUF, 1 << 20);
                peer = stuck.accept(); // and does not read until the scope is done
                connection.writeTimeout(Duration.ofSeconds(10)); // a hang would be a test failure
                connection.write(large);
                scope.join();
                var first = assertThrows(UndeliveredException.class, scope::finish);
                var second = assertThrows(UndeliveredException.class, scope::finish);
                assertSame(first, second);
            }
            Await.result(peer.readToEndAndCloseAsync(), "the peer's read").assertReset(large);
        }
    }

    /**
     * Nothing can be added to or taken from a finished scope, and the refusals end nothing:
     * a refused connect does not even connect.
     */
    @Test
    void forkConnectAdoptAndTransferAfterFinishAreRefused() throws Exception {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            var other = TcpScope.open();
            CompletableFuture<Seen> seenKept;
            CompletableFuture<Seen> seenSpare;
            try (other) {
                var scope = TcpScope.open();
                TcpConnection kept = other.connect(server.address());
                seenKept = server.accept().readToEndAndCloseAsync();
                JdkPeer spareClient = JdkPeer.connect(listener.localAddress());
                seenSpare = spareClient.readToEndAndCloseAsync();
                TcpConnection spare = listener.accept();
                try (scope) {
                    scope.join();
                    scope.finish();
                    assertThrows(IllegalStateException.class, () -> scope.fork(() -> null));
                    assertThrows(IllegalStateException.class, () -> scope.connect(server.address()));
                    assertThrows(IllegalStateException.class, () -> scope.adopt(spare));
                    assertThrows(IllegalStateException.class, () -> other.transfer(kept, scope));
                }
                assertTrue(kept.isOpen() && spare.isOpen(), "the refusals ended nothing");
                assertTrue(other.owns(kept), "the refused transfer left the connection where it was");
                other.adopt(spare);
                kept.write(MESSAGE);
                other.join();
                other.finish();
            }
            Await.result(seenKept, "the kept peer's read").assertEof(MESSAGE);
            Await.result(seenSpare, "the spare peer's read").assertEof(new byte[0]);
        }
    }

    @Test
    void transferOutOfAFinishedScopeIsRefused() throws Exception {
        var target = TcpScope.open();
        try (target) {
            var scope = TcpScope.open();
            TcpConnection connection;
            CompletableFuture<Seen> seen;
            try (scope) {
                connection = scope.connect(server.address());
                seen = server.accept().readToEndAndCloseAsync();
                connection.write(MESSAGE);
                scope.join();
                scope.finish();
                assertThrows(IllegalStateException.class, () -> scope.transfer(connection, target));
            }
            Await.result(seen, "the peer's read").assertEof(MESSAGE);
            assertFalse(target.owns(connection));
            target.join();
            target.finish();
        }
    }

    /**
     * After finish() the connections have ended gracefully: a later exception changes nothing,
     * and close() only closes the task scope (no exception of its own, nothing suppressed).
     * Checked by breaking the code: with finish() only recording success and leaving the endings
     * to close() (ScopeFinish.run skipped), the connection was still open after finish() and the
     * peer saw RST.
     */
    @Test
    void anExceptionBetweenFinishAndCloseChangesNothing() throws Exception {
        var boom = new IllegalStateException("after finish");
        var scope = TcpScope.open();
        AtomicReference<TcpConnection> connection = new AtomicReference<>();
        AtomicReference<CompletableFuture<Seen>> seen = new AtomicReference<>();
        var thrown = assertThrows(IllegalStateException.class, () -> {
            try (scope) {
                connection.set(scope.connect(server.address()));
                seen.set(server.accept().readToEndAndCloseAsync());
                scope.fork(() -> {
                    connection.get().write(MESSAGE);
                    return null;
                });
                scope.join();
                scope.finish();
                assertFalse(connection.get().isOpen(), "finish() ended the connection itself");
                throw boom;
            }
        });
        assertSame(boom, thrown);
        assertEquals(0, thrown.getSuppressed().length, () -> Arrays.toString(thrown.getSuppressed()));
        Await.result(seen.get(), "the peer's read").assertEof(MESSAGE);
        assertEquals(ConnectionEnding.Mode.GRACEFUL, scope.endings().get(connection.get()).mode());
    }

    @Test
    void finishFromAnotherThreadIsRefused() throws Exception {
        var scope = TcpScope.open();
        CompletableFuture<Seen> seen;
        try (scope) {
            TcpConnection connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            connection.write(MESSAGE);
            scope.join();
            Throwable refused = Forked.start(Forked.Kind.VIRTUAL, "intruder", () -> {
                scope.finish();
                return null;
            }).await().failure();
            assertInstanceOf(WrongThreadException.class, refused);
            assertTrue(connection.isOpen());
            scope.finish();
        }
        Await.result(seen, "the peer's read").assertEof(MESSAGE);
    }
}
