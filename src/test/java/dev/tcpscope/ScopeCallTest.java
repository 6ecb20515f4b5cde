package dev.tcpscope;

import dev.tcpscope.scope.BlockedReader;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
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

/**
 * The lambda form {@link TcpScope#call}: returning declares success (joined and finished for the
 * body); any exception, even one thrown after {@code join()}, aborts.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ScopeCallTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final byte[] MESSAGE = seeded(150_000, 11);

    private JdkPeer.Server server;
    private CompletableFuture<Seen> seen;

    @BeforeEach
    void openServer() throws IOException {
        server = JdkPeer.Server.open();
        seen = server.acceptReadToEndAndCloseAsync();
    }

    @AfterEach
    void closeServer() throws IOException {
        server.close();
    }

    @Test
    void normalReturnEndsGracefullyAndReturnsTheValue() throws Exception {
        AtomicReference<TcpConnection> connection = new AtomicReference<>();
        String result = TcpScope.call(server.address(), (scope, conn) -> {
            connection.set(conn);
            var written = scope.fork(() -> {
                conn.write(MESSAGE);
                return MESSAGE.length;
            });
            scope.join();
            return "wrote " + written.get();
        });
        assertEquals("wrote " + MESSAGE.length, result);
        Await.result(seen, "the peer's read").assertEof(MESSAGE);
        assertEquals(ConnectionEnding.Mode.GRACEFUL, connection.get().ending().orElseThrow().mode());
    }

    @Test
    void theBodyNeedNotJoin() throws Exception {
        AtomicReference<TcpConnection> connection = new AtomicReference<>();
        int result = TcpScope.call(server.address(), (scope, conn) -> {
            connection.set(conn);
            scope.fork(() -> {
                conn.write(MESSAGE);
                return null;
            });
            return 42; // call() joins for it
        });
        assertEquals(42, result);
        Await.result(seen, "the peer's read").assertEof(MESSAGE);
        assertEquals(ConnectionEnding.Mode.GRACEFUL, connection.get().ending().orElseThrow().mode());
    }

    @Test
    void exceptionAfterJoinAborts() throws Exception {
        var boom = new IllegalArgumentException("the reply was wrong");
        AtomicReference<TcpConnection> connection = new AtomicReference<>();
        var thrown = assertThrows(IllegalArgumentException.class, () -> TcpScope.call(server.address(),
                (scope, conn) -> {
                    connection.set(conn);
                    scope.fork(() -> {
                        conn.write(MESSAGE);
                        return null;
                    });
                    scope.join(); // the work succeeded...
                    throw boom;   // ...but the body did not
                }));
        assertSame(boom, thrown);
        assertEquals(0, thrown.getSuppressed().length, () -> Arrays.toString(thrown.getSuppressed()));
        Await.result(seen, "the peer's read").assertReset(MESSAGE);
        ConnectionEnding ending = connection.get().ending().orElseThrow();
        assertEquals(ConnectionEnding.Mode.ABORTED, ending.mode());
        assertSame(boom, ending.cause());
    }

    @Test
    void checkedExceptionFromTheBodyPropagatesAsIs() throws Exception {
        var boom = new IOException("checked");
        AtomicReference<TcpConnection> connection = new AtomicReference<>();
        var thrown = assertThrows(IOException.class, () -> TcpScope.call(server.address(), (scope, conn) -> {
            connection.set(conn);
            conn.write(MESSAGE);
            throw boom;
        }));
        assertSame(boom, thrown);
        Await.result(seen, "the peer's read").assertReset(MESSAGE);
        assertFalse(connection.get().isOpen());
    }

    @Test
    void exceptionBeforeJoinWithForkedSubtasksKeepsTheBodysExceptionFirst() throws Exception {
        var boom = new IllegalStateException("before join");
        AtomicReference<BlockedReader> reader = new AtomicReference<>();
        var thrown = assertThrows(IllegalStateException.class, () -> TcpScope.call(server.address(),
                (scope, conn) -> {
                    reader.set(BlockedReader.forkedIn(scope, conn));
                    throw boom;
                }));
        assertSame(boom, thrown);
        assertEquals(1, thrown.getSuppressed().length, () -> Arrays.toString(thrown.getSuppressed()));
        assertInstanceOf(IllegalStateException.class, thrown.getSuppressed()[0]); // owner did not join
        reader.get().assertWokenByOurSide();
        Await.result(seen, "the peer's read").assertReset();
    }

    /** A body that finished the scope itself: a later exception cannot undo the graceful ending. */
    @Test
    void exceptionAfterTheBodysOwnFinishKeepsTheGracefulEnding() throws Exception {
        var boom = new IllegalStateException("after finish");
        AtomicReference<TcpConnection> connection = new AtomicReference<>();
        var thrown = assertThrows(IllegalStateException.class, () -> TcpScope.call(server.address(),
                (scope, conn) -> {
                    connection.set(conn);
                    conn.write(MESSAGE);
                    scope.join();
                    scope.finish();
                    throw boom;
                }));
        assertSame(boom, thrown);
        Await.result(seen, "the peer's read").assertEof(MESSAGE);
        assertEquals(ConnectionEnding.Mode.GRACEFUL, connection.get().ending().orElseThrow().mode());
    }

    /**
     * A body that swallows the failure of its own join() and returns: the scope failed, so
     * call() cannot declare success; it says so, and the peer sees RST.
     */
    @Test
    void aBodyThatSwallowsAFailedJoinGetsIllegalStateException() throws Exception {
        var thrown = assertThrows(IllegalStateException.class, () -> TcpScope.call(server.address(),
                (scope, conn) -> {
                    conn.write(MESSAGE);
                    scope.fork(() -> {
                        throw new IOException("subtask failed");
                    });
                    try {
                        scope.join();
                    } catch (StructuredTaskScope.FailedException ignored) {
                        // swallowed
                    }
                    return "looks fine";
                }));
        assertInstanceOf(StructuredTaskScope.FailedException.class, thrown.getCause());
        Await.result(seen, "the peer's read").assertReset(MESSAGE);
    }

    @Test
    void aFailedSubtaskFailsTheCall() throws Exception {
        var failure = new IOException("subtask failed");
        var thrown = assertThrows(StructuredTaskScope.FailedException.class, () -> TcpScope.call(server.address(),
                (scope, conn) -> {
                    scope.fork(() -> {
                        conn.write(MESSAGE);
                        throw failure;
                    });
                    return "unreachable";
                }));
        assertSame(failure, thrown.getCause());
        Await.result(seen, "the peer's read").assertReset(MESSAGE);
    }
}
