package dev.tcpscope;

import java.net.SocketException;

/**
 * The operation cannot go on because our side has ended the connection: it was aborted (by
 * {@code abort()}, by its scope, by a failed write) or ended gracefully, possibly by another
 * thread while this one was blocked reading or writing.
 *
 * <p>The cause, when there is one, is the reason the connection was aborted.
 */
public class ConnectionClosedException extends SocketException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was being done, and how the connection ended
     * @param cause   why the connection was ended, or {@code null}
     */
    public ConnectionClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
