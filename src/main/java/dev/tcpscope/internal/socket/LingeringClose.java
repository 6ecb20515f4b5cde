package dev.tcpscope.internal.socket;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.internal.poll.Readiness;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.LockSupport;

/**
 * The graceful ending of a connection (RFC 9293 CLOSE) done in user space, within one deadline,
 * never with a positive SO_LINGER (which would block a carrier thread in close(2) and send no
 * RST when it runs out).
 *
 * <ol>
 *   <li>A drainer (a virtual thread) reads and discards the peer's input from the start, so that a
 *       peer blocked writing to us keeps reading and ACKing, and so that close(2) does not find
 *       unread bytes (which would turn our FIN into a data-loss RST, RFC 2525 2.17).</li>
 *   <li>The caller has flushed its output; {@code shutdown(SHUT_WR)} sends FIN after it.</li>
 *   <li>SIOCOUTQ is polled with backoff until it reads 0: the peer's TCP acknowledged every byte
 *       and the FIN. There is no readiness event for this; a reset ends the wait early.</li>
 *   <li>Wait for the peer's FIN, then clear SO_LINGER and close(2): a clean FIN handshake.</li>
 * </ol>
 * If the deadline passes before everything was acknowledged, or the peer resets, the socket is
 * closed with SO_LINGER still {1,0}: RST, and the result says not delivered. If everything was
 * acknowledged but the peer has not sent FIN by the deadline, the socket is closed normally.
 */
public final class LingeringClose {

    /** What happened, for the public result type. */
    public record Outcome(boolean delivered, long unacknowledgedBytes, PeerEnd peerEnd, long bytesDiscarded,
                          String reason) {}

    /** How the peer ended, as seen by the drainer. */
    public enum PeerEnd { FIN, RST, NOT_BY_DEADLINE }

    private static final long FIRST_POLL_NANOS = 50_000;      // 50 µs: loopback acknowledges fast
    private static final long LONGEST_POLL_NANOS = 20_000_000; // 20 ms

    private LingeringClose() {}

    /**
     * Performs steps 1 to 4 on {@code socket}, whose output the caller has already flushed.
     * The socket is closed when this returns, one way or the other.
     */
    public static Outcome run(NativeSocket socket, long deadline) {
        Drainer drainer = new Drainer(socket, deadline, Thread.currentThread());
        Thread drainerThread = Thread.ofVirtual().name("tcpscope-drain").start(drainer);
        try {
            socket.shutdownOutput();
        } catch (IOException e) {
            return abort(socket, drainerThread, drainer, -1, "shutdown(SHUT_WR) failed: " + e.getMessage(), e);
        }

        // Wait until the peer's TCP has acknowledged every byte and our FIN.
        int unacknowledged;
        long pause = FIRST_POLL_NANOS;
        while (true) {
            try {
                unacknowledged = socket.options().unacknowledged();
            } catch (IOException e) {
                return abort(socket, drainerThread, drainer, -1, "ioctl(SIOCOUTQ) failed: " + e.getMessage(), e);
            }
            if (drainer.peerEnd == PeerEnd.RST || socket.wasReset()) {
                // Reported as RST whether or not the drainer got to see it before the close below.
                drainer.peerEnd = PeerEnd.RST;
                return abort(socket, drainerThread, drainer, unacknowledged, "the peer reset the connection", null);
            }
            if (unacknowledged == 0) {
                break;
            }
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                return abort(socket, drainerThread, drainer, unacknowledged,
                        unacknowledged + " bytes were not acknowledged by the deadline", null);
            }
            if (Thread.currentThread().isInterrupted()) {
                return abort(socket, drainerThread, drainer, unacknowledged, "interrupted while waiting for acknowledgement", null);
            }
            // Polling: the kernel offers no event for "all acknowledged". The drainer unparks us
            // early when the peer resets or ends.
            LockSupport.parkNanos(LingeringClose.class, Math.min(pause, remaining));
            pause = Math.min(pause * 2, LONGEST_POLL_NANOS);
        }

        // Everything delivered. Give the peer until the deadline to send its FIN; an interrupt
        // cancels the ending like any other blocking operation (and then aborts, as documented).
        if (!joinUntilInterrupted(drainerThread, deadline)) {
            return abort(socket, drainerThread, drainer, 0, "interrupted while waiting for the peer's FIN", null);
        }
        PeerEnd peerEnd = drainer.peerEnd;
        if (peerEnd == PeerEnd.RST) {
            // The reset came after the peer acknowledged everything: our bytes and FIN arrived.
            socket.close("ended gracefully (the peer reset after receiving everything)", null);
            return new Outcome(true, 0, PeerEnd.RST, drainer.discarded, "delivered; the peer then reset");
        }
        if (peerEnd == null) {
            drainerThread.interrupt();
            joinUntil(drainerThread, System.nanoTime() + 1_000_000_000L);
            peerEnd = PeerEnd.NOT_BY_DEADLINE;
        }
        try {
            socket.options().setLinger(SocketOptions.Linger.OFF);
        } catch (IOException e) {
            // Still {1,0}: the close below sends RST, but after our FIN was acknowledged the peer
            // reads it as an ordinary end (FACTS: a RST after FIN reads as EOF).
        }
        socket.close("ended gracefully", null);
        return new Outcome(true, 0, peerEnd, drainer.discarded,
                peerEnd == PeerEnd.FIN ? "delivered; the peer ended too" : "delivered; the peer did not end by the deadline");
    }

    private static Outcome abort(NativeSocket socket, Thread drainerThread, Drainer drainer, long unacknowledged,
                                 String reason, Throwable cause) {
        socket.close("aborted: " + reason, cause); // SO_LINGER is still {1,0}: RST
        joinUntil(drainerThread, System.nanoTime() + 1_000_000_000L);
        PeerEnd peerEnd = drainer.peerEnd != null ? drainer.peerEnd : PeerEnd.NOT_BY_DEADLINE;
        return new Outcome(false, Math.max(unacknowledged, 0), peerEnd, drainer.discarded, reason);
    }

    private static void joinUntil(Thread thread, long deadline) {
        boolean interrupted = false;
        try {
            while (thread.isAlive()) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return;
                }
                try {
                    thread.join(java.time.Duration.ofNanos(remaining));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Like {@link #joinUntil} but gives up when the calling thread is interrupted.
     *
     * @return {@code false} if interrupted (the interrupt status is set again), else {@code true}
     */
    private static boolean joinUntilInterrupted(Thread thread, long deadline) {
        while (thread.isAlive()) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                return true;
            }
            try {
                thread.join(java.time.Duration.ofNanos(remaining));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** Reads and discards input until the peer's FIN or reset, the deadline, or the close. */
    private static final class Drainer implements Runnable {
        private static final int CHUNK = 16 * 1024;

        private final NativeSocket socket;
        private final long deadline;
        private final Thread waiter;
        volatile PeerEnd peerEnd;
        volatile long discarded;

        Drainer(NativeSocket socket, long deadline, Thread waiter) {
            this.socket = socket;
            this.deadline = deadline;
            this.waiter = waiter;
        }

        @Override
        public void run() {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment scratch = arena.allocate(CHUNK);
                while (true) {
                    int n = socket.read(scratch, deadline);
                    if (n < 0) {
                        peerEnd = PeerEnd.FIN;
                        return;
                    }
                    discarded += n;
                }
            } catch (ConnectionResetException e) {
                peerEnd = PeerEnd.RST;
            } catch (ConnectionClosedException | java.io.InterruptedIOException e) {
                // The finisher gave up, or the deadline passed: the peer did not end in time.
            } catch (IOException e) {
                // Any other error ends draining; the finisher decides from SIOCOUTQ.
            } finally {
                LockSupport.unpark(waiter);
            }
        }
    }
}
