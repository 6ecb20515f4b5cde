package dev.tcpscope;

import java.net.SocketException;

/**
 * A system call failed with an error that has no more specific exception type: the message and
 * the accessors name the call and the errno (for example {@code accept4} and {@code EMFILE}).
 *
 * <p>Errors with a well-known Java meaning use the usual types instead:
 * {@link java.net.ConnectException} (ECONNREFUSED, or a connect that timed out in the kernel),
 * {@link java.net.BindException} (EADDRINUSE, EADDRNOTAVAIL), {@link java.net.NoRouteToHostException}
 * (EHOSTUNREACH, ENETUNREACH) and {@link ConnectionResetException} (ECONNRESET, EPIPE).
 */
public class SystemCallException extends SocketException {

    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;
    private final String errnoName;

    /**
     * Creates the exception.
     *
     * @param message   the full message, naming the call and the errno
     * @param call      the system call, e.g. {@code "accept4"}
     * @param errno     the errno value the call returned
     * @param errnoName the symbolic name of {@code errno}, e.g. {@code "EMFILE"}
     */
    public SystemCallException(String message, String call, int errno, String errnoName) {
        super(message);
        this.call = call;
        this.errno = errno;
        this.errnoName = errnoName;
    }

    /** {@return the system call that failed, e.g. {@code "accept4"}} */
    public String call() {
        return call;
    }

    /** {@return the errno value the call failed with (platform-specific)} */
    public int errno() {
        return errno;
    }

    /** {@return the symbolic name of the errno, e.g. {@code "EMFILE"}} */
    public String errnoName() {
        return errnoName;
    }
}
