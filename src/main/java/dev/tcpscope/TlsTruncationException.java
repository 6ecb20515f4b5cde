package dev.tcpscope;

import java.io.IOException;

/**
 * The peer of a TLS connection ended its TCP stream (FIN) without first sending TLS's
 * {@code close_notify} (RFC 8446 section 6.1, RFC 5246 section 7.2.1): what it sent may be cut
 * short, so it is not reported as an end of stream.
 *
 * <p>On a TLS connection a read returns -1 only after the peer's {@code close_notify}, the TLS
 * layer's declaration that its data is complete. A FIN without it is what a peer that failed,
 * or an attacker who injected a FIN, leaves behind: reads deliver the data that was decrypted
 * before it, then throw this exception, and every later read throws it again. A reset is still a
 * {@link ConnectionResetException}. Writing stays possible: only the peer's direction ended.
 */
public class TlsTruncationException extends IOException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was being done when the truncation was seen
     */
    public TlsTruncationException(String message) {
        super(message);
    }
}
