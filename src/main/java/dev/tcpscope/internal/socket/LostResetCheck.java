package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.os.Errno;

import java.io.IOException;

/**
 * Finds the fatal error that the kernel reported to a splice(2) or sendfile(2) which then returned
 * a byte count, so that a read of 0 does not take a reset for the peer's FIN.
 *
 * <p><b>The hazard.</b> {@code send} takes a socket's pending error only when it has sent nothing
 * (after a partial send it returns the count and leaves the error pending). splice from a pipe to a
 * socket, and sendfile (which splices internally), call the socket's sendmsg in a loop and return
 * {@code spliced ?: error} (Linux's {@code splice_to_socket}): when a reset arrives between two
 * sendmsg of one call, the second takes the pending error, the call returns the bytes of the first,
 * and the error is gone — no call ever reports it, and a read on another thread then gets 0, what
 * a FIN returns. Seen in RelayResetRaceTest: the client saw FIN in 19 of 1,000 runs where the
 * upstream had reset, with the relay pumping through splice; none with this check.
 *
 * <p><b>The check.</b> Once a socket has sent with such a call ({@link NativeSocket#lossySends}),
 * a read of 0 that finds nothing in the settled {@link FatalErrorRecord} also reads the TCP state
 * (TCP_INFO's {@code tcpi_state}). A peer's FIN alone leaves a socket whose own FIN was not sent
 * in CLOSE_WAIT; a reset (or any fatal error: the kernel's {@code tcp_done}) leaves it in
 * TCP_CLOSE. So with our output not shut down, TCP_CLOSE means the connection was broken, and the
 * lost error is recorded as EPIPE ("broken", a {@code ConnectionResetException}; a more telling
 * errno reported later replaces it). The one case it decides differently from a plain read: a peer
 * that sent FIN and then RST reads as a reset here, not as -1 — on a connection that carried
 * zero-copy sends, and only while our side has not sent FIN.
 */
public final class LostResetCheck {

    /** Where {@code tcpi_state} is in {@code struct tcp_info} (its first byte; AbiProbeTest checks it). */
    public static final int TCPI_STATE_OFFSET = 0;

    private static final int TCP_INFO = Libc.TCP_INFO();
    private static final int TCP_CLOSE = Libc.TCP_CLOSE();

    private LostResetCheck() {}

    /**
     * After a read of 0 whose settled record was empty: {@return the lost error, now recorded, or
     * null when the 0 is the peer's FIN}
     */
    static FatalErrorRecord.Failure afterZeroRead(NativeSocket socket) {
        if (!socket.lossySends || socket.outputShutDown) {
            return null;
        }
        int state;
        try {
            // getsockopt copies min(length, sizeof(struct tcp_info)) bytes: 4 are enough for tcpi_state.
            state = (socket.options.getInt(SocketOptions.IPPROTO_TCP, TCP_INFO) >>> (8 * TCPI_STATE_OFFSET)) & 0xFF;
        } catch (IOException closedMeanwhile) {
            return null;
        }
        if (state != TCP_CLOSE) {
            return null;
        }
        socket.errors.record(Errno.EPIPE, "splice or sendfile (the kernel reported the error to a call that"
                + " returned a byte count)");
        return socket.errors.get();
    }
}
