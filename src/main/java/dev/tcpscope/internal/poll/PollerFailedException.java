package dev.tcpscope.internal.poll;

import java.io.IOException;

/**
 * The poller that reports a descriptor's readiness has stopped: an operation that would have to
 * wait for readiness on it cannot complete. Thrown to every thread parked on one of its
 * descriptors (they are woken for it), to every later wait on them, and to any registration with
 * it. The cause is what stopped the poller. Connections made afterwards use a new poller.
 */
public final class PollerFailedException extends IOException {

    private static final long serialVersionUID = 1L;

    PollerFailedException(String operation, Throwable cause) {
        super(operation + ": the tcpscope poller failed (" + cause
                + "); readiness can no longer be reported for this connection", cause);
    }
}
