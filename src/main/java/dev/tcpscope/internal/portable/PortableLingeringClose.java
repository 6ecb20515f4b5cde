package dev.tcpscope.internal.portable;

import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.FinishResult;
import dev.tcpscope.PeerEnding;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.net.SocketTimeoutException;

/**
 * The graceful ending on the portable transport: the native transport's lingering close without
 * its proof of delivery, which needs Linux's SIOCOUTQ.
 *
 * <ol>
 *   <li>{@code shutdownOutput}: FIN after our bytes (the caller has flushed).</li>
 *   <li>Read and discard the peer's input until its FIN, a reset, the deadline, or — the same
 *       quiet period as the native ending's last step — until the peer has sent nothing for the
 *       quiet period. Draining keeps a peer blocked writing to us moving, and leaves no unread
 *       bytes for close(2) to answer with RST (RFC 2525 2.17).</li>
 *   <li>FIN from the peer, the quiet period or the deadline, with no error seen: clear SO_LINGER
 *       and close; the result says {@link FinishResult.Delivery#UNCONFIRMED}, because nothing
 *       here can see whether the peer's TCP acknowledged our bytes. A reset, another fatal error,
 *       a failed shutdown or an interrupt: close with the linger still {1, 0} (RST),
 *       {@link FinishResult.Delivery#NOT_DELIVERED}.</li>
 * </ol>
 * Without acknowledgements, a reset seen while draining aborts even if the peer had received
 * everything first (the native transport would have seen the acknowledgement and reported it
 * delivered): the report errs on the side of "not delivered", never the reverse.
 */
final class PortableLingeringClose {

    private static final int SCRATCH_BYTES = 8192;

    private PortableLingeringClose() {}

    static FinishResult run(PortableSocket socket, long deadline, long quietNanos) {
        try {
            socket.shutdownOutput();
        } catch (IOException e) {
            // A fatal error was recorded (a reset, a timeout), or our side closed it: no FIN to trust.
            return abort(socket, socket.wasReset() ? PeerEnding.RST : PeerEnding.TIMEOUT, 0,
                    "no FIN was sent: " + e.getMessage(), e);
        }
        MemorySegment scratch = MemorySegment.ofArray(new byte[SCRATCH_BYTES]);
        long discarded = 0;
        long quietUntil = quietDeadline(quietNanos, deadline);
        while (true) {
            long now = System.nanoTime();
            if (now - deadline >= 0) {
                return closeGracefully(socket, PeerEnding.TIMEOUT, discarded,
                        "FIN sent; the peer did not end by the deadline; acknowledgement not confirmed (portable transport)");
            }
            if (now - quietUntil >= 0) {
                return closeGracefully(socket, PeerEnding.TIMEOUT, discarded,
                        "FIN sent; the peer sent nothing more and did not end within the quiet period;"
                                + " acknowledgement not confirmed (portable transport)");
            }
            try {
                int n = socket.read(scratch, quietUntil);
                if (n < 0) {
                    return closeGracefully(socket, PeerEnding.FIN, discarded,
                            "FIN sent; the peer ended too; acknowledgement not confirmed (portable transport)");
                }
                discarded += n;
                quietUntil = quietDeadline(quietNanos, deadline); // the peer is still talking
            } catch (SocketTimeoutException e) {
                // the quiet period (or the deadline) passed: the top of the loop decides
            } catch (ConnectionResetException e) {
                return abort(socket, PeerEnding.RST, discarded, "the peer reset the connection", null);
            } catch (InterruptedIOException e) {
                return abort(socket, PeerEnding.TIMEOUT, discarded, "interrupted while waiting for the peer's FIN", e);
            } catch (IOException e) {
                return abort(socket, socket.wasReset() ? PeerEnding.RST : PeerEnding.TIMEOUT, discarded,
                        "reading the peer's input failed: " + e.getMessage(), e);
            }
        }
    }

    /** {@return {@code quietNanos} from now, but never past {@code deadline}} */
    private static long quietDeadline(long quietNanos, long deadline) {
        long now = System.nanoTime();
        return quietNanos >= deadline - now ? deadline : now + quietNanos;
    }

    private static FinishResult closeGracefully(PortableSocket socket, PeerEnding peer, long discarded, String reason) {
        try {
            socket.clearLinger();
        } catch (IOException e) {
            // Still {1, 0}: the close sends RST, after our FIN, which the peer reads as an ordinary end.
        }
        socket.close("ended gracefully", null);
        return new FinishResult(FinishResult.Delivery.UNCONFIRMED, -1, peer, discarded, reason);
    }

    private static FinishResult abort(PortableSocket socket, PeerEnding peer, long discarded, String reason,
                                      Throwable cause) {
        socket.close("aborted: " + reason, cause); // SO_LINGER still {1, 0}: RST
        return new FinishResult(FinishResult.Delivery.NOT_DELIVERED, -1, peer, discarded, reason);
    }
}
