package dev.tcpscope.internal.socket;

import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.FinishResult;
import dev.tcpscope.PeerEnding;
import dev.tcpscope.internal.poll.SocketDescriptor;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
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
 *   <li>SIOCOUTQ is read until it reads 0: the peer's TCP acknowledged every byte and the FIN.
 *       Between looks the thread parks until the socket changes, not for a poll interval: once
 *       the output is shut down, Linux's tcp_poll reports the socket writable at every wake-up,
 *       and the acknowledgement of our FIN is one (a state change, FIN_WAIT1 to FIN_WAIT2, which
 *       wakes epoll waiters with no event key); so with edge-triggered interest in both
 *       directions, input, the peer's FIN, that acknowledgement and a reset all arrive as a
 *       writable edge, which the ending waits for (holding the write lock: the direction's one
 *       waiter). No timer runs per look, and an acknowledgement the peer's TCP delays (40 ms
 *       and more) is seen when it comes. Only while another thread holds the read or the write
 *       lock (a reader taking the input itself, a write that has not failed yet) does the ending
 *       poll instead, every 50 µs doubling up to 20 ms.</li>
 *   <li>Wait for the peer's FIN, still draining, then clear SO_LINGER and close(2): a clean FIN
 *       handshake. Like nginx's lingering close, the wait ends early when the peer stays quiet
 *       (sends nothing) for the quiet period, so that a peer that keeps its socket open does not
 *       hold us until the deadline.</li>
 * </ol>
 * <b>Delivered</b> means: {@code shutdown(SHUT_WR)} succeeded (our FIN is queued behind our
 * bytes) and SIOCOUTQ later read 0 while no fatal error had been seen. SIOCOUTQ proves nothing on
 * its own: after a reset it reads 0 if nothing was in flight. So if the connection was already
 * gone when the ending began (shutdown fails with ENOTCONN: no FIN was ever sent), or a reset or
 * other fatal error is seen before the acknowledgement, the deadline passes first, or the thread
 * is interrupted, the socket is closed with SO_LINGER still {1,0}: RST, and the result says not
 * delivered. If everything was acknowledged but the peer has not sent FIN by the deadline or the
 * quiet period, the socket is closed normally.
 */
public final class LingeringClose {

    /** What happened, for the public result type. */
    public record Outcome(boolean delivered, long unacknowledgedBytes, PeerEnd peerEnd, long bytesDiscarded,
                          String reason) {

        /** {@return this outcome in the public result type} */
        FinishResult finishResult() {
            return new FinishResult(delivered ? FinishResult.Delivery.CONFIRMED : FinishResult.Delivery.NOT_DELIVERED,
                    unacknowledgedBytes,
                    switch (peerEnd) {
                        case FIN -> PeerEnding.FIN;
                        case RST -> PeerEnding.RST;
                        case NOT_BY_DEADLINE -> PeerEnding.TIMEOUT;
                    }, bytesDiscarded, reason);
        }
    }

    /** How the peer ended, as seen while draining. */
    public enum PeerEnd { FIN, RST, NOT_BY_DEADLINE }

    private static final long FIRST_POLL_NANOS = 50_000;       // 50 µs: loopback acknowledges fast
    private static final long LONGEST_POLL_NANOS = 20_000_000; // 20 ms
    /**
     * Where the input the ending discards is read into: one native buffer for every ending, since
     * no one ever reads what lands in it (concurrent endings overwrite each other's garbage). An
     * 8 KiB array per ending was most of the ending's allocation (8 KiB of about 15 per
     * connection in the lifecycle benchmark).
     */
    private static final MemorySegment DISCARDED_INPUT = Arena.global().allocate(8192);

    private LingeringClose() {}

    /**
     * Performs steps 1 to 4 on {@code socket}, whose output the caller has already flushed.
     * The socket is closed when this returns, one way or the other.
     *
     * @param deadline   a {@link System#nanoTime()} value by which the ending is over
     * @param quietNanos once everything is acknowledged, how long the peer may send nothing
     *                   before we stop waiting for its FIN
     */
    public static Outcome run(NativeSocket socket, long deadline, long quietNanos) {
        try {
            socket.shutdownOutput();
        } catch (IOException e) {
            // ENOTCONN: the connection was gone before the ending began (a reset, a timeout), and
            // no FIN went out. SIOCOUTQ may read 0 now, but that proves nothing: not delivered.
            return abort(socket, -1, failedPeerEnd(socket), 0, "no FIN was sent: " + e.getMessage(), e);
        }
        // Free unless a write raced with the ending (it fails at once now: the output is shut down).
        boolean waitsForChanges = socket.writeLock.tryLock();
        try {
            if (waitsForChanges) {
                try {
                    watchBothDirections(socket); // before the first look: no change after it is missed
                } catch (IOException e) {
                    return abort(socket, unacknowledgedOrUnknown(socket), null, 0,
                            "registering with the poller failed: " + e.getMessage(), e);
                }
            }
            return drainAndWait(socket, deadline, quietNanos, waitsForChanges);
        } finally {
            if (waitsForChanges) {
                socket.writeLock.unlock();
            }
        }
    }

    /** Steps 2 to 4, after a successful shutdown(SHUT_WR). */
    private static Outcome drainAndWait(NativeSocket socket, long deadline, long quietNanos, boolean waitsForChanges) {
        long discarded = 0;
        PeerEnd peerEnd = null;
        boolean acknowledged = false;
        int unacknowledged = -1;
        long pause = FIRST_POLL_NANOS;
        long quietUntil = deadline; // from when everything is acknowledged: when the peer's silence ends the wait
        while (true) {
            if (peerEnd == PeerEnd.RST || socket.hasFailed()) {
                // Checked before SIOCOUTQ is read again: only an acknowledgement seen before the
                // failure proves that our bytes and FIN arrived (after a reset SIOCOUTQ means nothing).
                if (!acknowledged) {
                    return abort(socket, unacknowledged, failedPeerEnd(socket), discarded,
                            socket.wasReset() ? "the peer reset the connection"
                                    : "the connection failed: " + socket.failure("finish").getMessage(), null);
                }
                // The reset came after the peer acknowledged everything: our bytes and FIN arrived.
                socket.close("ended gracefully (the peer reset after receiving everything)", null);
                return new Outcome(true, 0, PeerEnd.RST, discarded, "delivered; the peer then reset");
            }
            int read = 0;
            if (peerEnd == null) {
                try {
                    read = Receiving.readQueued(socket, DISCARDED_INPUT);
                } catch (ConnectionResetException e) {
                    peerEnd = PeerEnd.RST;
                    continue;
                } catch (IOException e) {
                    if (!socket.hasFailed()) {
                        return abort(socket, unacknowledged, peerEnd, discarded, "reading the peer's input failed: " + e.getMessage(), e);
                    }
                    continue; // a fatal error (a timeout...): the top of the loop decides by the acknowledgement
                }
                if (read == -1) {
                    peerEnd = PeerEnd.FIN;
                } else if (read > 0) {
                    discarded += read;
                    if (acknowledged) {
                        quietUntil = quietDeadline(quietNanos, deadline); // the peer is still talking
                    }
                }
            }
            if (!acknowledged) {
                try {
                    unacknowledged = socket.options().unacknowledged();
                } catch (IOException e) {
                    return abort(socket, -1, peerEnd, discarded, "ioctl(SIOCOUTQ) failed: " + e.getMessage(), e);
                }
                acknowledged = unacknowledged == 0;
                if (acknowledged) {
                    quietUntil = quietDeadline(quietNanos, deadline);
                }
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
            if (acknowledged && now - quietUntil >= 0) {
                return closeGracefully(socket, PeerEnd.NOT_BY_DEADLINE, discarded,
                        "delivered; the peer sent nothing more and did not end within the quiet period");
            }
            if (read > 0) {
                continue; // more may be queued: read it before waiting
            }
            long waitNanos = acknowledged ? Math.min(remaining, quietUntil - now) : remaining;
            boolean polling = !waitsForChanges || read == Receiving.READER_BUSY;
            if (polling) {
                waitNanos = Math.min(waitNanos, pause);
                pause = Math.min(pause * 2, LONGEST_POLL_NANOS);
            }
            String waitingFor = acknowledged ? "the peer's FIN" : "acknowledgement";
            try {
                if (waitsForChanges) {
                    awaitChange(socket, now + waitNanos);
                } else {
                    LockSupport.parkNanos(LingeringClose.class, waitNanos);
                    if (Thread.currentThread().isInterrupted()) {
                        throw new InterruptedIOException();
                    }
                }
            } catch (SocketTimeoutException e) {
                // The poll interval, the quiet period or the deadline passed: look again.
            } catch (InterruptedIOException e) {
                return abort(socket, unacknowledged, peerEnd, discarded, "interrupted while waiting for " + waitingFor, e);
            } catch (IOException e) {
                if (!socket.hasFailed()) {
                    return abort(socket, unacknowledged, peerEnd, discarded,
                            "waiting for " + waitingFor + " failed: " + e.getMessage(), e);
                }
            }
            if (peerEnd == PeerEnd.FIN) {
                // A RST after the peer's FIN shows in no read (the FIN is read first): ask for it.
                try {
                    socket.pollPendingError();
                } catch (IOException e) {
                    return abort(socket, unacknowledged, peerEnd, discarded, "getsockopt(SO_ERROR) failed: " + e.getMessage(), e);
                }
            }
        }
    }

    /** Registers for both directions (step 3's wake-ups); see {@link SocketDescriptor#watchBothDirections}. */
    private static void watchBothDirections(NativeSocket socket) throws IOException {
        socket.descriptor.acquire();
        try {
            socket.descriptor.watchBothDirections("finish");
        } finally {
            socket.descriptor.release();
        }
    }

    /** Parks until the socket changes (a writable edge: see the class comment), or {@code until}. */
    private static void awaitChange(NativeSocket socket, long until) throws IOException {
        socket.descriptor.acquire();
        try {
            socket.descriptor.awaitWritable(until, "finish");
        } finally {
            socket.descriptor.release();
        }
    }

    /** {@return SIOCOUTQ now, or -1 if it cannot be read} */
    private static int unacknowledgedOrUnknown(NativeSocket socket) {
        try {
            return socket.options().unacknowledged();
        } catch (IOException e) {
            return -1;
        }
    }

    /** {@return how the peer ended, given the fatal error recorded (a reset, or a timeout: no ending seen)} */
    private static PeerEnd failedPeerEnd(NativeSocket socket) {
        return socket.wasReset() ? PeerEnd.RST : PeerEnd.NOT_BY_DEADLINE;
    }

    /** {@return {@code quietNanos} from now, but never past {@code deadline}} */
    private static long quietDeadline(long quietNanos, long deadline) {
        long now = System.nanoTime();
        return quietNanos >= deadline - now ? deadline : now + quietNanos;
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
