package dev.tcpscope;

import dev.tcpscope.peers.Pair;
import dev.tcpscope.peers.Pair.Side;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import dev.tcpscope.testing.Patterns;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ConnectionOutput}'s buffer and its accounting, seen from a JDK peer: a flush sends what
 * the stream view buffered and nothing else does meanwhile; a write that overflows the buffer
 * sends the buffered part first; an interrupted write reports the bytes it sent. Written for the
 * mutation testing of issue 11 (README, "Reliability"): each test kills mutants that the other
 * suites left alive (PIT's report names the killing test).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConnectionOutputTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    /** flush() alone sends the buffered bytes; a flush with nothing buffered is a no-op, even after FIN. */
    @Test
    void aFlushSendsWhatWasBufferedAndAnEmptyFlushDoesNothing() throws Exception {
        try (Pair p = Pair.open(Side.CONNECTED)) {
            TcpConnection conn = p.connection();
            OutputStream out = conn.outputStream();
            byte[] bytes = Patterns.bytes(0, 100);
            out.write(bytes);
            out.flush();
            assertArrayEquals(bytes, p.peer().readExactly(100), "the flush sent the buffered bytes");
            out.flush();
            conn.shutdownOutput();
            out.flush(); // nothing buffered: no "output was shut down"
            assertTrue(p.peer().readToEnd().isEof());
        }
    }

    /** A buffered write that does not fit the rest of the buffer sends the buffered part first, in order. */
    @Test
    void aWriteThatOverflowsTheBufferSendsItInOrder() throws Exception {
        try (Pair p = Pair.open(Side.ACCEPTED)) {
            TcpConnection conn = p.connection();
            OutputStream out = conn.outputStream();
            byte[] all = Patterns.bytes(0, 5000 + 4000 + 8192);
            out.write(all, 0, 5000);
            out.write(all, 5000, 4000);     // 5000 + 4000 > 8192: the 5000 go first
            out.write(all, 9000, 8192);     // exactly the buffer's size: sent at once
            out.flush();
            assertArrayEquals(all, p.peer().readExactly(all.length));
        }
    }

    /**
     * An interrupted write tells how many of its bytes were sent ({@code bytesTransferred}), not
     * counting what earlier writes sent, and poisons the connection.
     */
    @Test
    void anInterruptedWriteReportsItsOwnBytes() throws Exception {
        try (JdkPeer.Server server = JdkPeer.Server.open(4096);
             TcpConnection conn = TcpConnection.connect(server.address(), Duration.ofSeconds(10));
             JdkPeer peer = server.accept()) {
            conn.write(new byte[100]);
            Forked<Void> writer = Forked.start(Forked.Kind.VIRTUAL, "writer", () -> {
                conn.write(new byte[8 << 20]);
                return null;
            });
            Parked.await(writer.thread());
            writer.thread().interrupt();
            var e = writer.await().assertThrowsExactly(InterruptedIOException.class);
            assertEquals(conn.bytesWritten() - 100, e.bytesTransferred);
            assertTrue(e.bytesTransferred > 0, "the write was parked midway");
            assertTrue(conn.isPoisoned());
        }
    }
}
