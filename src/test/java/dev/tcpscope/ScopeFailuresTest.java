package dev.tcpscope;

import dev.tcpscope.internal.socket.SocketOptions;
import dev.tcpscope.scope.BlockedReader;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.ProtocolException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.StructuredTaskScope.Subtask;
import java.util.concurrent.atomic.AtomicReference;

import static dev.tcpscope.testing.Patterns.seeded;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Failures that come from outside the owner's code: the scope's timeout, an interrupt, a peer
 * that fails, a write that cannot complete, bytes that are never acknowledged. Each is observed
 * by a real JDK peer.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ScopeFailuresTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    /** Receive buffer of peers that do not read: they stop acknowledging soon. */
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

    private static ConnectionEnding endingOf(TcpScope<?, ?> scope, TcpConnection connection) {
        ConnectionEnding ending = scope.endings().get(connection);
        assertFalse(connection.isOpen());
        return ending;
    }

    @Test
    void scopeTimeoutWakesABlockedReaderAndAborts() throws Exception {
        // The timeout is long enough for the reader to be seen blocked first; nothing is
        // asserted about how long anything took.
        var scope = TcpScope.open(Duration.ofSeconds(2));
        TcpConnection connection;
        CompletableFuture<Seen> seen;
        BlockedReader reader;
        Subtask<Long> subtask;
        try (scope) {
            connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync(); // the peer sends nothing
            reader = new BlockedReader(connection);
            subtask = scope.fork(reader);
            reader.awaitParked();
            assertThrows(StructuredTaskScope.TimeoutException.class, scope::join);
        }
        reader.assertWokenByOurSide();
        // Cancelled by the timeout: the subtask has no result.
        assertEquals(Subtask.State.UNAVAILABLE, subtask.state());
        Await.result(seen, "the peer's read").assertReset();
        assertEquals(ConnectionEnding.Mode.ABORTED, endingOf(scope, connection).mode());
    }

    @Test
    void ownerInterruptedInJoinAborts() throws Exception {
        AtomicReference<TcpScope<Object, Void>> scopeRef = new AtomicReference<>();
        AtomicReference<TcpConnection> connection = new AtomicReference<>();
        CompletableFuture<BlockedReader> readerReady = new CompletableFuture<>();
        CompletableFuture<Seen> seen = server.acceptReadToEndAndCloseAsync();

        Forked<Void> owner = Forked.start(Forked.Kind.VIRTUAL, "scope-owner", () -> {
            var scope = TcpScope.open();
            scopeRef.set(scope);
            try (scope) {
                connection.set(scope.connect(server.address()));
                BlockedReader reader = new BlockedReader(connection.get());
                scope.fork(reader);
                readerReady.complete(reader);
                scope.join();
            }
            return null;
        });
        BlockedReader reader = Await.result(readerReady, "the owner to fork");
        reader.awaitParked();
        Parked.awaitIn(owner.thread(), "ThreadFlock.awaitAll"); // the owner is in join()
        owner.thread().interrupt();

        owner.await().assertThrowsExactly(InterruptedException.class);
        reader.assertWokenByOurSide();
        Await.result(seen, "the peer's read").assertReset();
        assertEquals(ConnectionEnding.Mode.ABORTED, endingOf(scopeRef.get(), connection.get()).mode());
    }

    @Test
    void onePeerResettingAbortsTheOtherConnectionToo() throws Exception {
        byte[] message = seeded(100_000, 3);
        try (JdkPeer.Server other = JdkPeer.Server.open()) {
            var scope = TcpScope.open();
            TcpConnection a;
            TcpConnection b;
            CompletableFuture<Seen> seenB;
            try (scope) {
                a = scope.connect(server.address());
                JdkPeer peerA = server.accept();
                b = scope.connect(other.address());
                seenB = other.accept().readToEndAndCloseAsync();
                BlockedReader readerA = new BlockedReader(a);
                BlockedReader readerB = new BlockedReader(b);
                scope.fork(readerA);
                scope.fork(readerB);
                scope.fork(() -> {
                    b.write(message);
                    return null;
                });
                readerA.awaitParked();
                peerA.reset();
                var thrown = assertThrows(StructuredTaskScope.FailedException.class, scope::join);
                assertInstanceOf(ConnectionResetException.class, thrown.getCause());
            }
            Await.result(seenB, "peer B's read").assertReset(message);
            assertEquals(ConnectionEnding.Mode.ABORTED, endingOf(scope, a).mode());
            assertEquals(ConnectionEnding.Mode.ABORTED, endingOf(scope, b).mode());
        }
    }

    @Test
    void oneExchangeFailingResetsBothPeers() throws Exception {
        try (JdkPeer.Server other = JdkPeer.Server.open()) {
            var scope = TcpScope.open();
            TcpConnection a;
            TcpConnection b;
            CompletableFuture<Seen> seenA;
            CompletableFuture<Seen> seenB;
            try (scope) {
                a = scope.connect(server.address());
                JdkPeer peerA = server.accept();
                b = scope.connect(other.address());
                seenB = other.accept().readToEndAndCloseAsync();
                BlockedReader readerB = new BlockedReader(b);
                scope.fork(readerB);
                scope.fork(() -> {
                    byte[] reply = new byte[3];
                    int n = a.read(reply);
                    throw new ProtocolException("peer A answered " + new String(reply, 0, Math.max(n, 0)));
                });
                readerB.awaitParked();
                peerA.write("ERR".getBytes());
                seenA = peerA.readToEndAndCloseAsync();
                var thrown = assertThrows(StructuredTaskScope.FailedException.class, scope::join);
                assertInstanceOf(ProtocolException.class, thrown.getCause());
                readerB.assertWokenByOurSide();
            }
            Await.result(seenA, "peer A's read").assertReset();
            Await.result(seenB, "peer B's read").assertReset();
            assertEquals(ConnectionEnding.Mode.ABORTED, endingOf(scope, a).mode());
            assertEquals(ConnectionEnding.Mode.ABORTED, endingOf(scope, b).mode());
        }
    }

    /**
     * join() returned normally and every subtask succeeded, but the write it swallowed poisoned
     * the connection: finish() aborts it and says so. Checked by breaking the code: with
     * ScopeFinish not reporting the connections it ended itself (only those aborted before it),
     * finish() returned normally.
     */
    @Test
    void writeTimedOutPartWayPoisonsTheConnectionAndFinishReportsIt() throws Exception {
        byte[] message = seeded(16 << 20, 4); // far more than the kernel buffers between us
        try (JdkPeer.Server slow = JdkPeer.Server.open(SMALL_RECEIVE_BUFFER)) {
            var scope = TcpScope.open();
            TcpConnection connection;
            JdkPeer peer;
            UndeliveredException thrown;
            try (scope) {
                connection = scope.connect(slow.address());
                peer = slow.accept(); // and does not read, for now
                // The subtask swallows the failure: only the poisoned connection tells.
                Subtask<IOException> writer = scope.fork(() -> {
                    connection.writeTimeout(Duration.ofMillis(200));
                    try {
                        connection.write(message);
                        return null;
                    } catch (IOException e) {
                        return e;
                    }
                });
                scope.join();
                assertInstanceOf(SocketTimeoutException.class, writer.get());
                assertTrue(connection.isPoisoned());
                assertTrue(connection.bytesWritten() > 0 && connection.bytesWritten() < message.length,
                        () -> connection.bytesWritten() + " bytes written");
                thrown = assertThrows(UndeliveredException.class, scope::finish);
            }
            Seen seen = Await.result(peer.readToEndAndCloseAsync(), "the peer's read");
            seen.assertReset(message);
            ConnectionEnding ending = endingOf(scope, connection);
            assertEquals(ConnectionEnding.Mode.ABORTED, ending.mode());
            assertTrue(ending.reason().contains("poison"), ending::reason);
            assertTrue(thrown.getMessage().contains("poison"), thrown::getMessage);
        }
    }

    @Test
    void unacknowledgedBytesAtTheFinishDeadlineThrowUndeliveredException() throws Exception {
        byte[] message = seeded(256 * 1024, 5);
        try (JdkPeer.Server stuck = JdkPeer.Server.open(SMALL_RECEIVE_BUFFER)) {
            // The finish deadline is short: the peer will not read before close() returns.
            var scope = TcpScope.open().finishTimeout(Duration.ofMillis(300));
            AtomicReference<TcpConnection> connection = new AtomicReference<>();
            AtomicReference<JdkPeer> peer = new AtomicReference<>();
            var thrown = assertThrows(UndeliveredException.class, () -> {
                try (scope) {
                    TcpConnection c = scope.connect(stuck.address());
                    connection.set(c);
                    // A send buffer that takes the whole message, most of which the peer's
                    // full receive window leaves unacknowledged.
                    SocketOptionsOf.socket(c).options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_SNDBUF, 1 << 20);
                    peer.set(stuck.accept());
                    scope.fork(() -> {
                        c.writeTimeout(Duration.ofSeconds(10)); // a hang would be a test failure
                        c.write(message);
                        return null;
                    });
                    scope.join();
                    assertFalse(c.isPoisoned(), "the write completed into the send buffer");
                    scope.finish();
                }
            });
            // finish() aborted the connection before throwing: the peer, reading at last, sees
            // the bytes that had reached it and then the reset.
            Await.result(peer.get().readToEndAndCloseAsync(), "the peer's read").assertReset(message);
            ConnectionEnding ending = thrown.endings().get(connection.get());
            assertEquals(ConnectionEnding.Mode.ABORTED, ending.mode(), ending::toString);
            assertFalse(ending.result().delivered());
            assertTrue(ending.result().unacknowledgedBytes() > 0, ending::toString);
            assertEquals(ending, endingOf(scope, connection.get()));
        }
    }
}
