package dev.tcpscope;

import java.net.SocketException;

/**
 * The peer aborted the connection: it sent RST (RFC 9293 ABORT), so whatever it sent before is
 * not a complete message, whatever its length.
 *
 * <p>Thrown by reads once the bytes that arrived before the reset have been delivered, and by
 * writes. A connection remembers the reset: every later read or write throws it again, even
 * though Linux reports ECONNRESET only once and then reads 0 as if the peer had ended cleanly.
 * This is distinct from {@link ConnectionClosedException} (our own side ended the connection),
 * from {@link java.net.SocketTimeoutException} (a deadline passed) and from other I/O errors.
 */
public class ConnectionResetException extends SocketException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was being done when the reset was seen
     */
    public ConnectionResetException(String message) {
        super(message);
    }
}
