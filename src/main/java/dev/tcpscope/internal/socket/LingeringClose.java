package dev.tcpscope.internal.socket;

import dev.tcpscope.ConnectionResetException;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.net.SocketTimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * The graceful ending of a connection (RFC 9293 CLOSE) done in user space, within one deadline,
 * never with a positive SO_LINGER (which would block a carrier thread in close(2) and send no
 * RST when it runs out). One thread does it all, parking between steps:
 *
 * <ol>
 *   <li>The caller has flushed its output; {@code shutdown(SHUT_WR)} sends FIN after it.</li>
 *   <li>While waiting, the peer's input is read and discarded as it arrives, so that a peer
 *       blocked writing to us keeps reading and ACKing, and so that close(2) does not find
 *       unread bytes (which would turn our FIN into a data-loss RST, RFC 2525 2.17).</li>
 *   <li>SIOCOUTQ is polled with backoff until it reads 0: the peer's TCP acknowledged every byte
 *       and the FIN. There is no readiness event for this, so the wait for input doubles as the
 *       poll interval (50 µs, doubling up to 20 ms); a reset ends it early.</li>
 *   <li>Wait for the peer's FIN, then clear SO_LINGER and close(2): a clean FIN handshake.</li>
 * </ol>
 * If the deadline passes before everything was acknowledged, the peer resets, or the thread is
 * interrupted, the socket is closed with SO_LINGER still {1,0}: RST, and the result says not
 * delivered. If everything was acknowledged but the peer has not sent FIN by the deadline, the
 * socket is closed normally.
 */
public final class LingeringClose {

    /** What happened, for the public result type. */
    public record Outcome(boolean delivered, long unacknowledgedBytes, PeerEnd peerEnd, long bytesDiscarded,
                          String reason) {}

    /** How the peer ended, as seen while draining. */
    public enum PeerEnd { FIN, RST, NOT_BY_DEADLINE }

    private static final long FIRST_POLL_NANOS = 50_000;       // 50 µs: loopback acknowledges fast
    private static final long LONGEST_POLL_NANOS = 20_000_000; // 20 ms
    private static final int SCRATCH_BYTES = 8192;

    private LingeringClose() {}

    /**
     * Performs steps 1 to 4 on {@code socket}, whose output the caller has already flushed.
     * The socket is closed when this returns, one way or the other.
     */
    public static Outcome run(NativeSocket socket, long deadline) {
        // A heap array: recv is a critical downcall, which takes it without a copy.
        MemorySegment scratch = MemorySegment.ofArray(new byte[SCRATCH_BYTES]);
        long discarded = 0;
        PeerEnd peerEnd = null;
        boolean acknowledged = false;
        int unacknowledged = -1;
        long pause = FIRST_POLL_NANOS;
        try {
            socket.shutdownOutput();
        } catch (IOException e) {
            return abort(socket, -1, peerEnd, discarded, "shutdown(SHUT_WR) failed: " + e.getMessage(), e);
        }
        while (true) {
            if (peerEnd == PeerEnd.RST || socket.wasReset()) {
                // Checked before SIOCOUTQ is read again: only an acknowledgement seen before the
                // reset proves that our bytes and FIN arrived (after a reset SIOCOUTQ means nothing).
                if (!acknowledged) {
                    return abort(socket, unacknowledged, PeerEnd.RST, discarded, "the peer reset the connection", null);
                }
                // The reset came after the peer acknowledged everything: our bytes and FIN arrived.
                socket.close("ended gracefully (the peer reset after receiving everything)", null);
                return new Outcome(true, 0, PeerEnd.RST, discarded, "delivered; the peer then reset");
            }
            if (!acknowledged) {
                try {
                    unacknowledged = socket.options().unacknowledged();
                } catch (IOException e) {
                    return abort(socket, -1, peerEnd, discarded, "ioctl(SIOCOUTQ) failed: " + e.getMessage(), e);
                }
                acknowledged = unacknowledged == 0;
            }
            if (acknowledged && peerEnd == PeerEnd.FIN) {
                return closeGracefully(socket, PeerEnd.FIN, discarded, "delivered; the peer ended too");
            }
            long now = System.nanoTime();
            long remaining = deadline - now;
            if (remaining <= 0) {
                if (acknowledged) {
                    return closeGracefully(socket, PeerEnd.NOT_BY_DEADLINE, discarded,
                            "delivered; the peer did not end by the deadline");
                }
                return abort(socket, unacknowledged, peerEnd, discarded,
                        unacknowledged + " bytes were not acknowledged by the deadline", null);
            }
            long waitNanos = acknowledged ? remaining : Math.min(pause, remaining);
            pause = Math.min(pause * 2, LONGEST_POLL_NANOS);
            if (peerEnd == PeerEnd.FIN) {
                // Nothing more to read; only the acknowledgement is awaited.
                LockSupport.parkNanos(LingeringClose.class, waitNanos);
                if (Thread.currentThread().isInterrupted()) {
                    return abort(socket, unacknowledged, peerEnd, discarded, "interrupted while waiting for acknowledgement", null);
                }
                continue;
            }
            try {
                int n = socket.read(scratch, now + waitNanos);
                if (n < 0) {
                    peerEnd = PeerEnd.FIN;
                } else {
                    discarded += n;
                }
            } catch (SocketTimeoutException e) {
                // The poll interval (or, once acknowledged, the deadline) passed: look again.
            } catch (ConnectionResetException e) {
                peerEnd = PeerEnd.RST;
            } catch (InterruptedIOException e) {
                return abort(socket, unacknowledged, peerEnd, discarded,
                        acknowledged ? "interrupted while waiting for the peer's FIN" : "interrupted while waiting for acknowledgement", e);
            } catch (IOException e) {
                return abort(socket, unacknowledged, peerEnd, discarded, "reading the peer's input failed: " + e.getMessage(), e);
            }
        }
    }

    private static Outcome closeGracefully(NativeSocket socket, PeerEnd peerEnd, long discarded, String reason) {
        try {
            socket.options().setLinger(SocketOptions.Linger.OFF);
        } catch (IOException e) {
            // Still {1,0}: the close below sends RST, but after our FIN was acknowledged the peer
            // reads it as an ordinary end (FACTS: a RST after FIN reads as EOF).
        }
        socket.close("ended gracefully", null);
        return new Outcome(true, 0, peerEnd, discarded, reason);
    }

    private static Outcome abort(NativeSocket socket, long unacknowledged, PeerEnd peerEnd, long discarded,
                                 String reason, Throwable cause) {
        socket.close("aborted: " + reason, cause); // SO_LINGER is still {1,0}: RST
        return new Outcome(false, Math.max(unacknowledged, 0), peerEnd != null ? peerEnd : PeerEnd.NOT_BY_DEADLINE,
                discarded, reason);
    }
}
