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

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A graceful ending that cannot complete: the peer does not read, so our bytes stay
 * unacknowledged and {@code finish()} waits (parked, draining) for the acknowledgement. What
 * ends that wait decides the result: the peer's reset, or an interrupt, each an abort the peer
 * sees as RST. Also the flush at the start of the ending failing on a connection the peer had
 * reset. Written for the mutation testing of issue 11 (README, "Reliability").
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FinishWhileUnacknowledgedTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    private static final Duration FINISH = Duration.ofSeconds(30);

    @Test
    void aResetWhileWaitingForTheAcknowledgementMeansNotDelivered() throws Exception {
        try (JdkPeer.Server server = JdkPeer.Server.open(4096);
             TcpConnection conn = TcpConnection.connect(server.address(), Duration.ofSeconds(10));
             JdkPeer peer = server.accept()) {
            conn.setWriteTimeout(Duration.ofSeconds(10));
            conn.write(Patterns.bytes(0, 20_000)); // more than the peer's window: stays unacknowledged
            Forked<FinishResult> finisher = Forked.start(Forked.Kind.VIRTUAL, "finisher", () -> conn.finish(FINISH));
            Parked.await(finisher.thread());

            peer.reset();

            FinishResult result = finisher.await().assertReturned();
            assertFalse(result.delivered());
            assertEquals(PeerEnding.RST, result.peerEnding());
            assertEquals("the peer reset the connection", result.reason());
        }
    }

    @Test
    void anInterruptWhileWaitingForTheAcknowledgementAborts() throws Exception {
        try (JdkPeer.Server server = JdkPeer.Server.open(4096);
             TcpConnection conn = TcpConnection.connect(server.address(), Duration.ofSeconds(10));
             JdkPeer peer = server.accept()) {
            conn.setWriteTimeout(Duration.ofSeconds(10));
            conn.write(Patterns.bytes(0, 20_000));
            Forked<FinishResult> finisher = Forked.start(Forked.Kind.VIRTUAL, "finisher", () -> conn.finish(FINISH));
            Parked.await(finisher.thread());

            finisher.thread().interrupt();

            Forked.Outcome<FinishResult> outcome = finisher.await();
            FinishResult result = outcome.assertReturned();
            assertFalse(result.delivered());
            assertEquals("interrupted while waiting for acknowledgement", result.reason());
            assertTrue(result.unacknowledgedBytes() > 0, result.toString());
            assertTrue(outcome.interruptedAtEnd(), "the interrupt status is kept");
            assertTrue(peer.readToEnd().isReset());
        }
    }

    /** The stream view's buffer cannot be sent (the peer reset): the ending aborts and says why. */
    @Test
    void aFailedFlushAtTheStartOfTheEndingAborts() throws Exception {
        try (Pair p = Pair.open(Side.CONNECTED)) {
            TcpConnection conn = p.connection();
            conn.outputStream().write(new byte[10]); // buffered
            p.peer().reset();
            assertThrowsExactly(ConnectionResetException.class, () -> conn.read(new byte[1]));

            FinishResult result = conn.finish(FINISH);

            assertFalse(result.delivered());
            assertTrue(result.reason().startsWith("finish(): flushing buffered output failed"), result.reason());
            assertEquals(ConnectionEnding.Mode.ABORTED, conn.ending().orElseThrow().mode());
        }
    }
}
