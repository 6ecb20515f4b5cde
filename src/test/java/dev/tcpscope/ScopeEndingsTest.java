package dev.tcpscope;

import dev.tcpscope.testing.TransportUnderTest;

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
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every way out of a {@link TcpScope}, each observed by a real JDK peer: success, declared by
 * {@code finish()}, ends every connection with FIN after every byte; anything else ends it with
 * RST, including an exception between {@code join()} and {@code finish()}.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ScopeEndingsTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final byte[] MESSAGE = seeded(200_000, 1);

    private JdkPeer.Server server;

    @BeforeEach
    void openServer() throws IOException {
        server = JdkPeer.Server.open();
    }

    @AfterEach
    void closeServer() throws IOException {
        server.close();
    }

    private static Void write(TcpConnection connection, byte[] bytes) throws IOException {
        connection.write(bytes);
        return null;
    }

    private static void assertEnded(TcpScope<?, ?> scope, TcpConnection connection, ConnectionEnding.Mode mode) {
        ConnectionEnding ending = scope.endings().get(connection);
        assertEquals(mode, ending == null ? null : ending.mode(), () -> "ending of " + connection + ": " + ending);
        assertFalse(connection.isOpen());
    }

    // ---------------------------------------------------------------- success

    @Test
    void successEndsWithAllBytesThenFin() throws Exception {
        var scope = TcpScope.open();
        TcpConnection connection;
        CompletableFuture<Seen> seen;
        try (scope) {
            connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            Subtask<Void> writer = scope.fork(() -> write(connection, MESSAGE));
            assertNull(scope.join());
            assertEquals(Subtask.State.SUCCESS, writer.state());
            scope.finish();
        }
        Await.result(seen, "the peer's read").assertEof(MESSAGE);

        ConnectionEnding ending = scope.endings().get(connection);
        assertEquals(ConnectionEnding.Mode.GRACEFUL, ending.mode(), ending::toString);
        TransportUnderTest.assertDelivered(ending.result());
        assertEquals(TransportUnderTest.portable() ? -1 : 0, ending.result().unacknowledgedBytes()); // -1: cannot tell
        assertEquals(MESSAGE.length, ending.bytesWritten());
        assertFalse(connection.isOpen());
    }

    @Test
    void successWithARequestAndAReplyEndsGracefully() throws Exception {
        byte[] reply = seeded(50_000, 2);
        AtomicReference<byte[]> request = new AtomicReference<>();
        var scope = TcpScope.open();
        TcpConnection connection;
        CompletableFuture<Seen> seen;
        try (scope) {
            connection = scope.connect(server.address());
            JdkPeer peer = server.accept();
            seen = Forked.onPlatformThread("peer", () -> {
                request.set(peer.readExactly(MESSAGE.length));
                peer.write(reply);
                return peer.readToEndAndClose();
            });
            Subtask<byte[]> replyRead = scope.fork(() -> {
                byte[] got = new byte[reply.length];
                int n = 0;
                while (n < got.length) {
                    int r = connection.read(got, n, got.length - n);
                    if (r < 0) {
                        throw new IOException("EOF after " + n + " bytes");
                    }
                    n += r;
                }
                return got;
            });
            scope.fork(() -> write(connection, MESSAGE));
            scope.join();
            assertTrue(Arrays.equals(reply, replyRead.get()));
            scope.finish();
        }
        Await.result(seen, "the peer's read").assertEof(new byte[0]);
        assertTrue(Arrays.equals(MESSAGE, request.get()));
        assertEnded(scope, connection, ConnectionEnding.Mode.GRACEFUL);
        assertEquals(PeerEnding.FIN, scope.endings().get(connection).result().peerEnding());
    }

    /**
     * Connections the work ended itself keep their ending and are not reported: one aborted by
     * the work (its peer sees RST), one finished by the work (EOF), one left to the scope (EOF).
     * Checked by breaking the code: with ScopeFinish reporting every responsible connection that
     * ended aborted, finish() threw for the one the work had aborted on purpose.
     */
    @Test
    void connectionsTheWorkEndedItselfKeepTheirEndingAndAreNotReported() throws Exception {
        try (JdkPeer.Server second = JdkPeer.Server.open(); JdkPeer.Server third = JdkPeer.Server.open()) {
            var scope = TcpScope.open();
            TcpConnection aborted;
            TcpConnection finished;
            TcpConnection left;
            CompletableFuture<Seen> seenAborted;
            CompletableFuture<Seen> seenFinished;
            CompletableFuture<Seen> seenLeft;
            var cause = new IllegalStateException("this one is given up on purpose");
            try (scope) {
                aborted = scope.connect(server.address());
                seenAborted = server.accept().readToEndAndCloseAsync();
                finished = scope.connect(second.address());
                seenFinished = second.accept().readToEndAndCloseAsync();
                left = scope.connect(third.address());
                seenLeft = third.accept().readToEndAndCloseAsync();
                scope.fork(() -> {
                    aborted.write(MESSAGE);
                    aborted.abort(cause);
                    return null;
                });
                scope.fork(() -> {
                    finished.write(MESSAGE);
                    return finished.finish();
                });
                scope.fork(() -> write(left, MESSAGE));
                scope.join();
                scope.finish(); // nothing to report: the abort was the work's own
            }
            Await.result(seenAborted, "the aborted peer's read").assertReset(MESSAGE);
            Await.result(seenFinished, "the finished peer's read").assertEof(MESSAGE);
            Await.result(seenLeft, "the third peer's read").assertEof(MESSAGE);
            assertSame(cause, scope.endings().get(aborted).cause());
            assertEquals("finish()", scope.endings().get(finished).reason());
            assertEnded(scope, left, ConnectionEnding.Mode.GRACEFUL);
        }
    }

    // ---------------------------------------------------------------- a subtask fails

    @Test
    void subtaskFailureAbortsAndWakesTheOtherSubtasks() throws Exception {
        var failure = new IllegalStateException("subtask failed");
        var scope = TcpScope.open();
        TcpConnection connection;
        CompletableFuture<Seen> seen;
        BlockedReader reader;
        try (scope) {
            connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            reader = BlockedReader.forkedIn(scope, connection);
            scope.fork(() -> {
                connection.write(MESSAGE);
                throw failure;
            });
            var thrown = assertThrows(StructuredTaskScope.FailedException.class, scope::join);
            assertSame(failure, thrown.getCause());
        }
        Await.result(seen, "the peer's read").assertReset(MESSAGE);
        Throwable woke = reader.assertWokenByOurSide();
        if (woke instanceof ConnectionClosedException) {
            assertSame(failure, woke.getCause(), "the abort carries the subtask's failure");
        }
        assertEnded(scope, connection, ConnectionEnding.Mode.ABORTED);
        assertSame(failure, scope.endings().get(connection).cause());
    }

    /**
     * awaitAll() returns normally although a subtask failed. The failed subtask wrote half a
     * message to one connection: that one is aborted at once and finish() reports it; the other,
     * which the failed subtask never touched, ends with FIN. Checked by breaking the code: without
     * the write hook (ScopeBranch.noteWrite a no-op) the half message got FIN; with finish()
     * ignoring connections aborted before it (ScopeFinish's abortedByScope check removed),
     * finish() returned normally.
     */
    @Test
    void awaitAllWithAFailedSubtaskAbortsWhatItWroteToAndFinishReportsIt() throws Exception {
        byte[] half = Arrays.copyOf(MESSAGE, MESSAGE.length / 2);
        try (JdkPeer.Server other = JdkPeer.Server.open()) {
            var scope = TcpScope.open(Joiner.awaitAll());
            TcpConnection written;
            TcpConnection untouched;
            CompletableFuture<Seen> seenWritten;
            CompletableFuture<Seen> seenUntouched;
            Subtask<Void> failing;
            UndeliveredException thrown;
            try (scope) {
                written = scope.connect(server.address());
                seenWritten = server.accept().readToEndAndCloseAsync();
                untouched = scope.connect(other.address());
                seenUntouched = other.accept().readToEndAndCloseAsync();
                failing = scope.fork(() -> {
                    written.write(half);
                    throw new IOException("the work failed after half a message");
                });
                scope.fork(() -> write(untouched, MESSAGE));
                assertNull(scope.join()); // awaitAll() does not throw
                assertEquals(Subtask.State.FAILED, failing.state());
                assertFalse(written.isOpen(), "aborted when the subtask failed, before finish()");
                thrown = assertThrows(UndeliveredException.class, scope::finish);
            }
            Await.result(seenWritten, "the written peer's read").assertReset(half);
            Await.result(seenUntouched, "the untouched peer's read").assertEof(MESSAGE);
            assertTrue(thrown.getMessage().contains(String.valueOf(written.remoteAddress())), thrown::getMessage);
            assertFalse(thrown.getMessage().contains(String.valueOf(untouched.remoteAddress())), thrown::getMessage);
            assertEquals(ConnectionEnding.Mode.ABORTED, thrown.endings().get(written).mode());
            assertEquals(ConnectionEnding.Mode.GRACEFUL, thrown.endings().get(untouched).mode());
            assertEnded(scope, written, ConnectionEnding.Mode.ABORTED);
            assertEnded(scope, untouched, ConnectionEnding.Mode.GRACEFUL);
        }
    }

    @Test
    void aCancelledSubtaskThatOnlyReadDoesNotTaintTheConnection() throws Exception {
        // anySuccessfulResultOrThrow() cancels the reader once another subtask succeeds. The
        // reader wrote nothing and the connection is the scope's own: finish() ends it with FIN;
        // without finish() it would be aborted like any other.
        var scope = TcpScope.open(Joiner.<String>anySuccessfulResultOrThrow());
        TcpConnection connection;
        CompletableFuture<Seen> seen;
        BlockedReader reader;
        try (scope) {
            connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            reader = new BlockedReader(connection);
            scope.fork(() -> reader.call().toString());
            reader.awaitParked();
            scope.fork(() -> "first");
            assertEquals("first", scope.join());
            reader.assertWokenByOurSide(); // the cancellation interrupted it
            if (TransportUnderTest.portable()) {
                // The documented difference: the JDK closed the interrupted reader's channel, so
                // the connection is aborted (RST) and cannot be written to or finished gracefully.
                assertThrows(ConnectionClosedException.class, () -> connection.write(MESSAGE));
            } else {
                connection.write(MESSAGE);
                scope.finish();
            }
        }
        if (TransportUnderTest.portable()) {
            assertTrue(Await.result(seen, "the peer's read").isReset(), "the peer sees RST");
            return;
        }
        Await.result(seen, "the peer's read").assertEof(MESSAGE);
        assertEnded(scope, connection, ConnectionEnding.Mode.GRACEFUL);
    }

    @Test
    void anySuccessfulResultWithEverySubtaskSuccessfulEndsGracefully() throws Exception {
        var scope = TcpScope.open(Joiner.<Integer>anySuccessfulResultOrThrow());
        TcpConnection connection;
        CompletableFuture<Seen> seen;
        try (scope) {
            connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            scope.fork(() -> {
                connection.write(MESSAGE);
                return MESSAGE.length;
            });
            assertEquals(MESSAGE.length, scope.join());
            scope.finish();
        }
        Await.result(seen, "the peer's read").assertEof(MESSAGE);
        assertEnded(scope, connection, ConnectionEnding.Mode.GRACEFUL);
    }

    @Test
    void anySuccessfulResultWithEverySubtaskFailedThrowsAndAborts() throws Exception {
        var scope = TcpScope.open(Joiner.<Integer>anySuccessfulResultOrThrow());
        TcpConnection connection;
        CompletableFuture<Seen> seen;
        try (scope) {
            connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            scope.fork(() -> {
                connection.write(MESSAGE);
                throw new IOException("no luck");
            });
            assertThrows(StructuredTaskScope.FailedException.class, scope::join);
        }
        Await.result(seen, "the peer's read").assertReset(MESSAGE);
        assertEnded(scope, connection, ConnectionEnding.Mode.ABORTED);
    }

    // ---------------------------------------------------------------- the owner's own ways out

    @Test
    void exceptionBeforeJoinAborts() throws Exception {
        var boom = new IllegalStateException("boom before join");
        var scope = TcpScope.open();
        AtomicReference<TcpConnection> connection = new AtomicReference<>();
        AtomicReference<CompletableFuture<Seen>> seen = new AtomicReference<>();
        var thrown = assertThrows(IllegalStateException.class, () -> {
            try (scope) {
                connection.set(scope.connect(server.address()));
                seen.set(server.accept().readToEndAndCloseAsync());
                connection.get().write(MESSAGE); // the owner writes, nothing forked
                throw boom;
            }
        });
        assertSame(boom, thrown);
        assertEquals(0, thrown.getSuppressed().length, () -> Arrays.toString(thrown.getSuppressed()));
        Await.result(seen.get(), "the peer's read").assertReset(MESSAGE);
        assertEnded(scope, connection.get(), ConnectionEnding.Mode.ABORTED);
    }

    @Test
    void exceptionBeforeJoinWithForkedSubtasksKeepsTheUsersExceptionFirst() throws Exception {
        var boom = new IllegalStateException("boom before join");
        var scope = TcpScope.open();
        AtomicReference<TcpConnection> connection = new AtomicReference<>();
        AtomicReference<CompletableFuture<Seen>> seen = new AtomicReference<>();
        AtomicReference<BlockedReader> reader = new AtomicReference<>();
        var thrown = assertThrows(IllegalStateException.class, () -> {
            try (scope) {
                connection.set(scope.connect(server.address()));
                seen.set(server.accept().readToEndAndCloseAsync());
                reader.set(BlockedReader.forkedIn(scope, connection.get()));
                throw boom;
            }
        });
        assertSame(boom, thrown, "the user's exception is the primary one");
        // The JDK's "Owner did not join after forking", thrown by close() after the abort.
        assertEquals(1, thrown.getSuppressed().length, () -> Arrays.toString(thrown.getSuppressed()));
        assertInstanceOf(IllegalStateException.class, thrown.getSuppressed()[0]);
        Await.result(seen.get(), "the peer's read").assertReset();
        reader.get().assertWokenByOurSide();
        assertEnded(scope, connection.get(), ConnectionEnding.Mode.ABORTED);
    }

    @Test
    void closeWithoutJoinAbortsThenThrows() throws Exception {
        var scope = TcpScope.open();
        TcpConnection connection = scope.connect(server.address());
        CompletableFuture<Seen> seen = server.accept().readToEndAndCloseAsync();
        BlockedReader reader = BlockedReader.forkedIn(scope, connection);

        var thrown = assertThrows(IllegalStateException.class, scope::close);
        assertTrue(String.valueOf(thrown.getMessage()).contains("join"), thrown::toString);
        // The ISE came after the abort: the connection is already ended, the peer reset.
        assertEnded(scope, connection, ConnectionEnding.Mode.ABORTED);
        Await.result(seen, "the peer's read").assertReset();
        reader.assertWokenByOurSide();
        scope.close(); // a second close does nothing
    }

    @Test
    void closeWithoutJoinAndWithoutSubtasksAborts() throws Exception {
        var scope = TcpScope.open();
        TcpConnection connection;
        CompletableFuture<Seen> seen;
        try (scope) {
            connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            connection.write(MESSAGE);
        } // nothing forked, so the JDK does not complain, but it is not a success either
        Await.result(seen, "the peer's read").assertReset(MESSAGE);
        assertEnded(scope, connection, ConnectionEnding.Mode.ABORTED);
        assertTrue(scope.endings().get(connection).reason().contains("join"),
                scope.endings().get(connection)::toString);
    }

    @Test
    void abortAfterJoinAborts() throws Exception {
        var cause = new Exception("the reply made no sense");
        var scope = TcpScope.open();
        TcpConnection connection;
        CompletableFuture<Seen> seen;
        try (scope) {
            connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            scope.fork(() -> write(connection, MESSAGE));
            scope.join();
            // An exception after join() is invisible to close(): this is how to say it.
            scope.abort(cause);
            assertFalse(connection.isOpen(), "abort() ends the connections at once");
        }
        Await.result(seen, "the peer's read").assertReset(MESSAGE);
        assertEnded(scope, connection, ConnectionEnding.Mode.ABORTED);
        assertSame(cause, scope.endings().get(connection).cause());
    }

    /**
     * The case the explicit finish() exists for: the work succeeded, then the program threw
     * before declaring success. Checked by breaking the code: with close() finishing a scope
     * whose join() returned (the old rule), the peer saw every byte and EOF.
     */
    @Test
    void exceptionAfterJoinWithoutFinishAborts() throws Exception {
        var boom = new IllegalStateException("after join, before finish");
        byte[] half = Arrays.copyOf(MESSAGE, MESSAGE.length / 2);
        var scope = TcpScope.open();
        AtomicReference<TcpConnection> connection = new AtomicReference<>();
        AtomicReference<CompletableFuture<Seen>> seen = new AtomicReference<>();
        var thrown = assertThrows(IllegalStateException.class, () -> {
            try (scope) {
                connection.set(scope.connect(server.address()));
                seen.set(server.accept().readToEndAndCloseAsync());
                scope.fork(() -> write(connection.get(), half));
                scope.join();
                throw boom; // e.g. the second half could not be produced
            }
        });
        assertSame(boom, thrown);
        assertEquals(0, thrown.getSuppressed().length, () -> Arrays.toString(thrown.getSuppressed()));
        Await.result(seen.get(), "the peer's read").assertReset(half);
        assertEnded(scope, connection.get(), ConnectionEnding.Mode.ABORTED);
        assertTrue(scope.endings().get(connection.get()).reason().contains("without finish()"),
                scope.endings().get(connection.get())::reason);
    }

    @Test
    void abortFromASubtaskWakesTheOthersAndAborts() throws Exception {
        var cause = new Exception("giving up");
        var scope = TcpScope.open();
        TcpConnection connection;
        CompletableFuture<Seen> seen;
        BlockedReader reader;
        try (scope) {
            connection = scope.connect(server.address());
            seen = server.accept().readToEndAndCloseAsync();
            reader = BlockedReader.forkedIn(scope, connection);
            scope.fork(() -> scope.abort(cause)); // any thread may abort
            try {
                scope.join();
            } catch (StructuredTaskScope.FailedException e) {
                // The woken reader failed, unless the aborting subtask's completion cancelled
                // the scope first: either way the scope is not a success.
                assertInstanceOf(ConnectionClosedException.class, e.getCause());
            }
        }
        Await.result(seen, "the peer's read").assertReset();
        Throwable woke = reader.awaitWoke();
        assertInstanceOf(ConnectionClosedException.class, woke);
        assertSame(cause, woke.getCause());
        assertEnded(scope, connection, ConnectionEnding.Mode.ABORTED);
    }
}
