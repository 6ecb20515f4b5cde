package dev.tcpscope;

import java.time.Duration;

/**
 * The record of how a connection ended, made exactly once per connection: what the peer was
 * told (graceful FIN or abortive RST), why, and what went through.
 *
 * @param mode         {@link Mode#GRACEFUL} (FIN after everything was acknowledged) or
 *                     {@link Mode#ABORTED} (RST)
 * @param reason       why, e.g. "abort()", "closed without finish()", "scope failed"
 * @param cause        the exception behind an abort, or {@code null}
 * @param bytesRead    bytes received from the peer over the connection's life
 * @param bytesWritten bytes handed to the kernel for the peer
 * @param duration     from the connection's creation to its ending
 * @param result       what reached the peer: for a graceful ending the {@link TcpConnection#finish}
 *                     result, for an abort "not delivered" with the bytes still unacknowledged
 */
public record ConnectionEnding(Mode mode, String reason, Throwable cause, long bytesRead, long bytesWritten,
                               Duration duration, FinishResult result) {

    /** What the peer was told. */
    public enum Mode {
        /** FIN after every byte was acknowledged: a complete exchange. */
        GRACEFUL,
        /** RST: the exchange failed, and the peer knows it. */
        ABORTED
    }
}
