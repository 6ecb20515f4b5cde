package dev.tcpscope;

import dev.tcpscope.internal.socket.SocketOptions;
import dev.tcpscope.peers.Pair;
import dev.tcpscope.peers.Pair.Side;
import dev.tcpscope.peers.Received;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Patterns;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Abort is the default state (SO_LINGER {1, 0} on every connection, client and accepted, until
 * the last step of a graceful ending), and every ending is recorded once, with its mode, reason
 * and byte counts.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConnectionEndingTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    // ------------------------------------------------------------ SO_LINGER

    @ParameterizedTest
    @EnumSource(Side.class)
    void lingerIsAbortFromTheStartAndThroughTheConnectionsLife(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            SocketOptions options = SocketOptionsOf.socket(conn).options();
            assertEquals(SocketOptions.Linger.ABORT, options.getLinger(), "getsockopt(SO_LINGER) right after " + side);

            conn.write(Patterns.bytes(0, 1000));
            p.peer().readExactly(1000);
            p.peer().write(new byte[10]);
            conn.read(new byte[10]);
            conn.shutdownOutput();
            assertEquals(SocketOptions.Linger.ABORT, options.getLinger(), "after I/O and shutdownOutput");
        }
    }

    // ------------------------------------------------------------ the record

    @ParameterizedTest
    @EnumSource(Side.class)
    void aGracefulEndingIsRecordedOnceWithItsCounts(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            List<ConnectionEnding> observed = new CopyOnWriteArrayList<>();
            conn.onEnded(observed::add);
            assertTrue(conn.ending().isEmpty(), "no ending while open");
            CompletableFuture<Received> received = p.peer().readToEndAsync().thenApply(Received::of);

            conn.write(Patterns.bytes(0, 12_345));
            p.peer().write(new byte[300]);
            byte[] some = new byte[100];
            assertEquals(100, ConnectionAbortTest.readFully(conn, some)); // 200 left for the drainer
            CompletableFuture<Void> peerFin = received.thenRun(() -> {
                try {
                    p.peer().sendFin();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            FinishResult result = conn.finish(ConnectionFinishTest.FINISH);
            peerFin.get(30, TimeUnit.SECONDS);

            ConnectionEnding ending = conn.ending().orElseThrow();
            assertEquals(ConnectionEnding.Mode.GRACEFUL, ending.mode());
            assertEquals("finish()", ending.reason());
            assertNull(ending.cause());
            assertEquals(12_345, ending.bytesWritten());
            assertEquals(300, ending.bytesRead(), "read by us and by the drainer");
            assertEquals(200, result.bytesDiscarded());
            assertFalse(ending.duration().isNegative());
            assertSame(result, ending.result());

            conn.abort();
            conn.close();
            conn.finish(Duration.ofSeconds(1));
            assertEquals(List.of(ending), observed, "observed exactly once");
            assertSame(ending, conn.ending().orElseThrow());
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void anAbortIsRecordedOnceWithItsCause(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            List<ConnectionEnding> observed = new ArrayList<>();
            conn.write(Patterns.bytes(0, 500));
            IllegalStateException cause = new IllegalStateException("bad request");

            conn.abort(cause);
            conn.onEnded(observed::add); // registered after the ending: called at once
            conn.abort(new IllegalStateException("another"));
            conn.close();

            ConnectionEnding ending = conn.ending().orElseThrow();
            assertEquals(List.of(ending), observed);
            assertEquals(ConnectionEnding.Mode.ABORTED, ending.mode());
            assertSame(cause, ending.cause());
            assertTrue(ending.reason().contains("bad request"), ending.reason());
            assertEquals(500, ending.bytesWritten());
            assertEquals(0, ending.bytesRead());
            assertFalse(ending.result().delivered());
            assertEquals(PeerEnding.UNKNOWN, ending.result().peerEnding());
            assertThrows(IllegalStateException.class, () -> conn.onEnded(e -> { }), "one observer");
            assertEquals(Seen.End.RESET, Received.of(p.peer().readToEnd()).end());
        }
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void closeWithoutFinishIsRecordedAsSuch(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            conn.close();
            ConnectionEnding ending = conn.ending().orElseThrow();
            assertEquals(ConnectionEnding.Mode.ABORTED, ending.mode());
            assertEquals("closed without finish()", ending.reason());
            assertNull(ending.cause());
            assertEquals(Seen.End.RESET, Received.of(p.peer().readToEnd()).end());
        }
    }
}
