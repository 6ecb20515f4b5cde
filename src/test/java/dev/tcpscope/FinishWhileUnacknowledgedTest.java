package dev.tcpscope;

import dev.tcpscope.peers.Pair;
import dev.tcpscope.peers.Pair.Side;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import dev.tcpscope.testing.Patterns;
import dev.tcpscope.testing.TransportUnderTest;
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
 *
 * <p>On the portable transport (README, "Transports") the ending cannot see acknowledgements: it
 * waits for the peer's FIN instead, for the quiet period at most (set here to the whole finish
 * time, so that only the event under test ends the wait). A reset or an interrupt during that
 * wait aborts as on native; an interrupt says it was waiting for the peer's FIN, with no count of
 * unacknowledged bytes (-1). A peer that does not read until after the deadline gets, on native,
 * a reset ({@code NOT_DELIVERED}); on portable the ending returns {@code UNCONFIRMED} and the
 * peer, once it reads, gets every byte and FIN from the kernel. Checked on portable by breaking
 * the code: {@code PortableLingeringClose} treating a reset while draining as the quiet period
 * (the first case fails: UNCONFIRMED), not aborting on an interrupt (the second fails), and
 * aborting at the deadline instead of closing gracefully (the fourth fails: the peer sees RST).
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
            conn.writeTimeout(Duration.ofSeconds(10));
            conn.write(Patterns.bytes(0, 20_000)); // more than the peer's window: stays unacknowledged
            waitOnlyForTheEvent(conn);
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
            conn.writeTimeout(Duration.ofSeconds(10));
            conn.write(Patterns.bytes(0, 20_000));
            waitOnlyForTheEvent(conn);
            Forked<FinishResult> finisher = Forked.start(Forked.Kind.VIRTUAL, "finisher", () -> conn.finish(FINISH));
            Parked.await(finisher.thread());

            finisher.thread().interrupt();

            Forked.Outcome<FinishResult> outcome = finisher.await();
            FinishResult result = outcome.assertReturned();
            assertFalse(result.delivered());
            assertEquals(FinishResult.Delivery.NOT_DELIVERED, result.delivery(), result.toString());
            if (TransportUnderTest.portable()) {
                assertEquals("interrupted while waiting for the peer's FIN", result.reason());
                assertEquals(-1, result.unacknowledgedBytes(), result.toString());
            } else {
                assertEquals("interrupted while waiting for acknowledgement", result.reason());
                assertTrue(result.unacknowledgedBytes() > 0, result.toString());
            }
            assertTrue(outcome.interruptedAtEnd(), "the interrupt status is kept");
            assertTrue(peer.readToEnd().isReset());
        }
    }

    /**
     * The peer reads nothing until the ending's deadline has passed. Native: the bytes are still
     * unacknowledged, so the ending aborts and the peer reads into a reset. Portable: the ending
     * cannot know; it closes gracefully (UNCONFIRMED) and the kernel delivers every byte and FIN.
     */
    @Test
    void aPeerThatReadsOnlyAfterTheDeadline() throws Exception {
        byte[] sent = Patterns.bytes(0, 20_000);
        try (JdkPeer.Server server = JdkPeer.Server.open(4096);
             TcpConnection conn = TcpConnection.connect(server.address(), Duration.ofSeconds(10));
             JdkPeer peer = server.accept()) {
            conn.writeTimeout(Duration.ofSeconds(10));
            conn.write(sent);

            FinishResult result = conn.finish(Duration.ofSeconds(1)); // returns at the deadline

            if (TransportUnderTest.portable()) {
                assertEquals(FinishResult.Delivery.UNCONFIRMED, result.delivery(), result.toString());
                assertEquals(-1, result.unacknowledgedBytes(), result.toString());
                assertEquals(ConnectionEnding.Mode.GRACEFUL, conn.ending().orElseThrow().mode());
                peer.readToEnd().assertEof(sent);
            } else {
                assertEquals(FinishResult.Delivery.NOT_DELIVERED, result.delivery(), result.toString());
                assertTrue(result.unacknowledgedBytes() > 0, result.toString());
                assertEquals(ConnectionEnding.Mode.ABORTED, conn.ending().orElseThrow().mode());
                assertTrue(peer.readToEnd().isReset());
            }
        }
    }

    /** The wait of the ending ends only by the event under test, on either transport. */
    private static void waitOnlyForTheEvent(TcpConnection conn) {
        // The portable ending waits for the peer's FIN for the quiet period at most (native: for
        // the acknowledgement, then the quiet period); as long as the finish itself here.
        conn.finishQuietPeriod(FINISH);
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
