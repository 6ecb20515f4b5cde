package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.socket.LingeringClose.Outcome;
import dev.tcpscope.internal.socket.LingeringClose.PeerEnd;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.FaultInjectingSyscalls;
import dev.tcpscope.testing.FaultInjectingSyscalls.Call;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import dev.tcpscope.testing.Patterns;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The paths of the graceful ending ({@link LingeringClose}) that the connection-level suites reach
 * only with a Python peer, or not at all, driven here on the socket layer against a JDK peer,
 * with faults injected where the kernel would not fail on loopback. Every test's outcome is the
 * {@link Outcome} the ending reported, with the socket closed; where the peer's view is decided
 * by the path, also what the peer saw.
 *
 * <p>"Unacknowledged" is real here: the peer receives into a small buffer and does not read, so
 * the bytes we wrote beyond its window stay in our SIOCOUTQ until it reads.
 *
 * <p>Checked through PIT's mutants of {@code LingeringClose} (issue 11), which these tests kill:
 * a reset after the acknowledgement reported as not delivered, or the socket left open; a failing
 * SIOCOUTQ not ending the wait; the wait for the acknowledgement after the peer's FIN not parking,
 * or ending at once; a read error other than a reset ignored; the quiet period not restarting
 * while the peer still sends.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LingeringCloseTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    private static final byte[] HELLO = "hello".getBytes(StandardCharsets.US_ASCII);
    /** Longer than any test: only the path under test ends the wait. */
    private static final Duration LONG = Duration.ofSeconds(30);
    /** More than the peer's window when it receives into {@link Loopback#SMALL_BUFFER}. */
    private static final int BEYOND_THE_WINDOW = 20_000;

    /** Our socket (SO_LINGER {1,0}, as every connection's) connected to a JDK peer. */
    private record Connection(JdkPeer.Server server, NativeSocket socket, JdkPeer peer) implements AutoCloseable {

        /** @param peerReceiveBuffer the peer's SO_RCVBUF, or 0 for the default */
        static Connection open(FaultInjectingSyscalls sys, int peerReceiveBuffer) throws IOException {
            JdkPeer.Server server = JdkPeer.Server.open(peerReceiveBuffer);
            NativeSocket socket = null;
            try {
                socket = Loopback.connector(sys).connect(server.address(), Await.TIMEOUT, null,
                        s -> s.options().setLinger(SocketOptions.Linger.ABORT));
                return new Connection(server, socket, server.accept());
            } catch (IOException | RuntimeException e) {
                if (socket != null) {
                    socket.close("closed by the test", e);
                }
                server.close();
                throw e;
            }
        }

        @Override
        public void close() throws IOException {
            socket.close("closed by the test", null);
            peer.close();
            server.close();
        }
    }

    private static Forked<Outcome> startEnding(NativeSocket socket, Duration quietPeriod) {
        long deadline = Deadline.after(LONG);
        return Forked.start(Forked.Kind.VIRTUAL, "ending", () -> LingeringClose.run(socket, deadline, quietPeriod.toNanos()));
    }

    private static Outcome end(NativeSocket socket) {
        return LingeringClose.run(socket, Deadline.after(LONG), LONG.toNanos());
    }

    /**
     * The peer acknowledged everything (our FIN too) and then reset instead of ending with FIN:
     * delivered, and the peer's ending is RST.
     */
    @Test
    void aResetAfterEverythingWasAcknowledgedIsStillDelivered() throws Exception {
        var sys = new FaultInjectingSyscalls();
        try (Connection c = Connection.open(sys, 0)) {
            Loopback.write(c.socket(), HELLO);
            // Our FIN now (the ending's shutdown then does nothing), so that the test can see
            // everything acknowledged before the ending looks.
            c.socket().shutdownOutput();
            c.peer().readToEnd().assertEof(HELLO);
            Await.until("the peer acknowledged everything", () -> unacknowledged(c.socket()) == 0);
            long siocoutqReads = sys.calls(Call.IOCTL);

            Forked<Outcome> ending = startEnding(c.socket(), LONG);
            Await.until("the ending read SIOCOUTQ", () -> sys.calls(Call.IOCTL) > siocoutqReads);
            Parked.await(ending.thread()); // acknowledged: now waiting for the peer's FIN
            c.peer().reset();

            assertEquals(new Outcome(true, 0, PeerEnd.RST, 0, "delivered; the peer then reset"),
                    ending.await().assertReturned());
            assertTrue(c.socket().descriptor().isReleased(), "the socket is closed");
        }
    }

    /** SIOCOUTQ cannot be read: nothing proves delivery, so the ending aborts and says why. */
    @Test
    void aFailingSiocoutqAborts() throws Exception {
        var sys = new FaultInjectingSyscalls();
        try (Connection c = Connection.open(sys, 0)) {
            Loopback.write(c.socket(), HELLO);
            sys.inject(Call.IOCTL, Errno.EINVAL, 1, Loopback.fd(c.socket()));

            Outcome outcome = end(c.socket());

            assertFalse(outcome.delivered(), outcome.toString());
            assertTrue(outcome.reason().startsWith("ioctl(SIOCOUTQ) failed: "), outcome.reason());
            assertTrue(outcome.reason().contains("EINVAL"), outcome.reason());
            assertEquals(0, outcome.unacknowledgedBytes());
            assertEquals(PeerEnd.NOT_BY_DEADLINE, outcome.peerEnd());
            assertTrue(c.socket().descriptor().isReleased(), "the socket is closed");
        }
    }

    /**
     * A read fails while draining with an error that is neither a reset nor fatal for the
     * connection (recv's ENOMEM): the ending cannot go on draining, so it aborts and says why.
     */
    @Test
    void aReadErrorOtherThanAResetWhileDrainingAborts() throws Exception {
        var sys = new FaultInjectingSyscalls();
        try (Connection c = Connection.open(sys, 0)) {
            Loopback.write(c.socket(), HELLO);
            var enomem = sys.inject(Call.RECV, Errno.ENOMEM, 1, Loopback.fd(c.socket()));

            Outcome outcome = end(c.socket());

            assertEquals(1, enomem.fired());
            assertFalse(outcome.delivered(), outcome.toString());
            assertTrue(outcome.reason().startsWith("reading the peer's input failed: "), outcome.reason());
            assertTrue(outcome.reason().contains("ENOMEM"), outcome.reason());
            assertEquals(PeerEnd.NOT_BY_DEADLINE, outcome.peerEnd());
            assertTrue(c.socket().descriptor().isReleased(), "the socket is closed");
        }
    }

    /**
     * The peer's FIN comes before its acknowledgement (it has not read our bytes yet): nothing is
     * left to read, so the ending parks until the socket changes; once the peer reads, its
     * acknowledgements wake the ending, everything is acknowledged and the ending is graceful on
     * both sides.
     */
    @Test
    void thePeersFinBeforeItsAcknowledgementIsWaitedOutByParking() throws Exception {
        var sys = new FaultInjectingSyscalls();
        try (Connection c = Connection.open(sys, Loopback.SMALL_BUFFER)) {
            byte[] data = Patterns.bytes(0, BEYOND_THE_WINDOW);
            Forked<Outcome> ending = endingParkedAfterThePeersFin(c, data);
            c.peer().readToEnd().assertEof(data);

            assertEquals(new Outcome(true, 0, PeerEnd.FIN, 0, "delivered; the peer ended too"),
                    ending.await().assertReturned());
            assertTrue(c.socket().descriptor().isReleased(), "the socket is closed");
        }
    }

    /**
     * The peer's FIN, then its RST before it acknowledged our bytes: no read shows the reset (the
     * FIN was read first), so the ending, woken by the reset, asks for the pending error; not
     * delivered.
     */
    @Test
    void aResetAfterThePeersFinButBeforeItsAcknowledgementIsNotDelivered() throws Exception {
        var sys = new FaultInjectingSyscalls();
        try (Connection c = Connection.open(sys, Loopback.SMALL_BUFFER)) {
            Forked<Outcome> ending = endingParkedAfterThePeersFin(c, Patterns.bytes(0, BEYOND_THE_WINDOW));
            c.peer().reset();

            Outcome outcome = ending.await().assertReturned();
            assertFalse(outcome.delivered(), outcome.toString());
            assertEquals(PeerEnd.RST, outcome.peerEnd());
            assertEquals("the peer reset the connection", outcome.reason());
            assertTrue(outcome.unacknowledgedBytes() > 0, outcome.toString());
            assertTrue(c.socket().descriptor().isReleased(), "the socket is closed");
        }
    }

    /**
     * An interrupt while parked for the acknowledgement (after the peer's FIN) aborts, and the
     * interrupt status stays set.
     */
    @Test
    void anInterruptWhileParkedForTheAcknowledgementAborts() throws Exception {
        var sys = new FaultInjectingSyscalls();
        try (Connection c = Connection.open(sys, Loopback.SMALL_BUFFER)) {
            Forked<Outcome> ending = endingParkedAfterThePeersFin(c, Patterns.bytes(0, BEYOND_THE_WINDOW));
            ending.thread().interrupt();

            Forked.Outcome<Outcome> forked = ending.await();
            Outcome outcome = forked.assertReturned();
            assertFalse(outcome.delivered(), outcome.toString());
            assertEquals("interrupted while waiting for acknowledgement", outcome.reason());
            assertEquals(PeerEnd.FIN, outcome.peerEnd());
            assertTrue(outcome.unacknowledgedBytes() > 0, outcome.toString());
            assertTrue(forked.interruptedAtEnd(), "the interrupt status is kept");
            assertTrue(c.peer().readToEnd().isReset(), "the peer sees RST");
        }
    }

    /**
     * getsockopt(SO_ERROR) fails when the parked ending (after the peer's FIN) wakes to ask for
     * the pending error: the ending aborts and says why. What wakes it is the peer's reset (the
     * only change that comes without the acknowledgement, which would end the wait gracefully).
     */
    @Test
    void aFailingPendingErrorCheckWhileParkedAborts() throws Exception {
        var sys = new FaultInjectingSyscalls();
        try (Connection c = Connection.open(sys, Loopback.SMALL_BUFFER)) {
            Forked<Outcome> ending = endingParkedAfterThePeersFin(c, Patterns.bytes(0, BEYOND_THE_WINDOW));
            sys.inject(Call.GETSOCKOPT, Errno.EINVAL, 1, Loopback.fd(c.socket()));
            c.peer().reset();

            Outcome outcome = ending.await().assertReturned();
            assertFalse(outcome.delivered(), outcome.toString());
            assertTrue(outcome.reason().startsWith("getsockopt(SO_ERROR) failed: "), outcome.reason());
            assertEquals(PeerEnd.FIN, outcome.peerEnd());
            assertTrue(c.socket().descriptor().isReleased(), "the socket is closed");
        }
    }

    /**
     * Once everything is acknowledged, the quiet period restarts whenever the peer sends: a peer
     * that keeps sending for longer than one quiet period, then ends with FIN, is waited for.
     *
     * <p>The peer sends a chunk, waits until the ending has read it, and sends the next, until more
     * than a quiet period (plus a margin) has passed since the ending was seen acknowledged; then
     * FIN. The only timing this assumes is that no gap between two of the ending's reads reaches
     * the quiet period (2 s). With the period not restarting, the ending stopped waiting one quiet
     * period after the acknowledgement, while the peer was still sending.
     */
    @Test
    void theQuietPeriodRestartsWhileThePeerKeepsSending() throws Exception {
        Duration quiet = Duration.ofSeconds(2);
        var sys = new FaultInjectingSyscalls();
        try (Connection c = Connection.open(sys, 0)) {
            c.socket().shutdownOutput();
            Await.until("the peer acknowledged our FIN", () -> unacknowledged(c.socket()) == 0);
            long siocoutqReads = sys.calls(Call.IOCTL);
            Forked<Outcome> ending = startEnding(c.socket(), quiet);
            Await.until("the ending read SIOCOUTQ", () -> sys.calls(Call.IOCTL) > siocoutqReads);
            long quietEndedBy = System.nanoTime() + quiet.toNanos(); // if it did not restart

            byte[] chunk = new byte[100];
            long sent = 0;
            while (System.nanoTime() - quietEndedBy < Duration.ofMillis(300).toNanos() && ending.outcomeIfDone() == null) {
                c.peer().write(chunk);
                sent += chunk.length;
                long expected = sent;
                Await.until("the ending read the chunk", () -> c.socket().bytesRead() >= expected || ending.outcomeIfDone() != null);
                TimeUnit.MILLISECONDS.sleep(20); // pacing only: a chunk every 20 ms or so, never a quiet period
            }
            c.peer().sendFin();

            assertEquals(new Outcome(true, 0, PeerEnd.FIN, sent, "delivered; the peer ended too"),
                    ending.await().assertReturned());
        }
    }

    /**
     * More input than one read takes, and the peer's FIN after it, all queued before the ending
     * looks: the ending reads on without waiting for another change (none will come) until the
     * FIN. Checked by breaking it on purpose: with the ending waiting after each read instead of
     * reading again, it stopped at the first 8 KiB and waited for the deadline.
     */
    @Test
    void queuedInputBeyondOneReadThenFinIsAllReadWithoutWaiting() throws Exception {
        var sys = new FaultInjectingSyscalls();
        try (Connection c = Connection.open(sys, 0)) {
            int size = 40_000;
            c.peer().write(Patterns.bytes(0, size));
            c.peer().sendFin();
            Await.until("the peer's bytes and FIN are queued here",
                    () -> tcpState(c.socket()) == TCP_CLOSE_WAIT && unread(c.socket()) == size);

            assertEquals(new Outcome(true, 0, PeerEnd.FIN, size, "delivered; the peer ended too"), end(c.socket()));
            assertTrue(c.peer().readToEnd().isEof(), "the peer sees our FIN");
        }
    }

    /**
     * A peer that is still sending when the ending starts (4 MiB, far more than the socket
     * buffers hold) is drained as it sends, not once per quiet period: each arrival wakes the
     * ending, whose socket so far waited only to connect (registered for output only). Checked
     * by breaking it on purpose: without the ending's registration for input, arrivals did not
     * wake it, the peer's write stalled on a full window until the quiet period (30 s here) ran
     * out, and the test timed out.
     */
    @Test
    void aPeerStillSendingIsDrainedAsItSends() throws Exception {
        var sys = new FaultInjectingSyscalls();
        try (Connection c = Connection.open(sys, 0)) {
            int size = 4 << 20;
            Forked<Outcome> ending = startEnding(c.socket(), LONG);
            c.peer().writeAsync(Patterns.bytes(0, size)).get(Await.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            c.peer().sendFin();

            assertEquals(new Outcome(true, 0, PeerEnd.FIN, size, "delivered; the peer ended too"),
                    ending.await().assertReturned());
        }
    }

    /**
     * The ending takes the read lock only for each read: once it is over, another thread's read
     * is refused at once (the connection is closed) instead of waiting for a lock nobody will
     * release. Checked by breaking it on purpose: with readQueued not unlocking, this read hung.
     */
    @Test
    void aReadAfterTheEndingIsRefusedAtOnce() throws Exception {
        var sys = new FaultInjectingSyscalls();
        try (Connection c = Connection.open(sys, 0)) {
            c.peer().sendFin();
            Await.until("the peer's FIN arrived", () -> tcpState(c.socket()) == TCP_CLOSE_WAIT);
            assertTrue(end(c.socket()).delivered());

            Forked<Integer> reader = Forked.start(Forked.Kind.VIRTUAL, "reader",
                    () -> c.socket().read(MemorySegment.ofArray(new byte[16]), Deadline.NONE));
            reader.await().assertThrowsExactly(dev.tcpscope.ConnectionClosedException.class);
        }
    }

    /**
     * While another thread holds the write lock (a pump sending into this socket, say), the ending
     * cannot be the writable direction's waiter: it polls instead, and still ends gracefully once
     * the peer has read everything and ended. Checked by breaking it on purpose: with the polling
     * wait not parking (a spin), the ending was never seen parked and the test failed.
     */
    @Test
    void withTheWriteLockHeldElsewhereTheEndingPolls() throws Exception {
        var sys = new FaultInjectingSyscalls();
        try (Connection c = Connection.open(sys, 0)) {
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            Forked<Boolean> holder = Forked.start(Forked.Kind.PLATFORM, "write-lock holder", () -> {
                c.socket().writeLock.lock();
                try {
                    release.await();
                    return true;
                } finally {
                    c.socket().writeLock.unlock();
                }
            });
            Await.until("the write lock is held", () -> c.socket().writeLock.isLocked());
            Forked<Outcome> ending = startEnding(c.socket(), LONG);
            Parked.await(ending.thread(), blocker -> blocker == LingeringClose.class, "LingeringClose (polling)");
            c.peer().readToEndAndClose().assertEof(new byte[0]);

            assertEquals(new Outcome(true, 0, PeerEnd.FIN, 0, "delivered; the peer ended too"),
                    ending.await().assertReturned());
            release.countDown();
            assertTrue(holder.await().assertReturned());
        }
    }

    /**
     * Writes more than the peer's window takes, lets the peer send FIN without reading, waits
     * until that FIN is queued here, and starts the ending: {@return the ending, which has read
     * the FIN and parked waiting for the acknowledgement only}
     */
    private static Forked<Outcome> endingParkedAfterThePeersFin(Connection c, byte[] data) throws IOException {
        c.socket().write(MemorySegment.ofArray(data), Loopback.deadline());
        c.peer().sendFin();
        // CLOSE_WAIT: the peer's FIN arrived. The ending's first read then takes it, before it parks.
        Await.until("the peer's FIN arrived", () -> tcpState(c.socket()) == TCP_CLOSE_WAIT);
        Forked<Outcome> ending = startEnding(c.socket(), LONG);
        awaitParkedForTheAcknowledgementOnly(ending);
        return ending;
    }

    /**
     * The ending thread parks until the socket changes: on the writable direction, which after
     * shutdown(SHUT_WR) reports every change (see {@link LingeringClose}).
     */
    private static void awaitParkedForTheAcknowledgementOnly(Forked<Outcome> ending) {
        Parked.await(ending.thread(), blocker -> String.valueOf(blocker).equals("Readiness[writable]"),
                "the writable Readiness (after the peer's FIN, waiting for the acknowledgement only)");
    }

    private static final int TCP_CLOSE_WAIT = 8; // include/net/tcp_states.h

    private static int tcpState(NativeSocket socket) {
        try {
            // tcpi_state is struct tcp_info's first byte (little-endian x86_64: the int's low byte).
            return socket.options().getInt(SocketOptions.IPPROTO_TCP, dev.tcpscope.internal.ffi.x86_64.Libc.TCP_INFO()) & 0xFF;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static int unread(NativeSocket socket) {
        try {
            return socket.unread();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static int unacknowledged(NativeSocket socket) {
        try {
            return socket.options().unacknowledged();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
