package dev.tcpscope.internal.socket;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.os.Errno;

import java.io.IOException;

/**
 * The output side's ending on a {@link NativeSocket}: shutdown(SHUT_WR), the FIN sent once; the
 * fatal error it reports when the connection is already gone (ENOTCONN); what a later send's
 * EPIPE means (our shutdown, or a reset); and the pending error polled while the graceful ending
 * waits with nothing left to read. Each result that could be hiding a reset another call took is
 * settled in the socket's {@link FatalErrorRecord} first.
 */
final class OutputShutdown {

    private static final int SHUT_WR = Libc.SHUT_WR();

    private OutputShutdown() {}

    /**
     * shutdown(SHUT_WR): sends FIN after the queued bytes; a second call does nothing. If the
     * connection was already gone (ENOTCONN: reset or timed out, so no FIN can be sent), throws
     * the exception of the fatal error that ended it. (SHUT_RD is never used: its effect
     * differs between operating systems; the connection layer gives input shutdown one meaning.)
     */
    static void shutdownOutput(NativeSocket socket) throws IOException {
        if (socket.finSent) {
            // Done already (the connection's own half-close, before its graceful ending). Once
            // both FINs are acknowledged the socket is closed in the kernel and a second
            // shutdown would fail with ENOTCONN, which must not read as a lost connection.
            return;
        }
        socket.outputShutDown = true;
        int fd = socket.descriptor.acquire();
        try {
            int result;
            synchronized (socket.errors.controlLock()) {
                socket.errors.enter(FatalErrorRecord.CONTROL);
                try {
                    result = socket.syscalls.shutdown(fd, SHUT_WR);
                    if (result == -Errno.ENOTCONN) {
                        // The connection is gone (reset or timed out) and no FIN was sent. The
                        // pending error may still be there: take it while in the slot.
                        takePendingError(socket, "shutdown(SHUT_WR)");
                    }
                } finally {
                    socket.errors.exit(FatalErrorRecord.CONTROL);
                }
            }
            if (result == -Errno.ENOTCONN) {
                FatalErrorRecord.Failure failure = socket.errors.settle();
                if (failure == null) {
                    socket.errors.record(Errno.ENOTCONN, "shutdown(SHUT_WR)");
                    failure = socket.errors.get();
                }
                throw failure.exception("shutdown(SHUT_WR)", socket.peerContext());
            }
            if (result < 0) {
                throw Errno.exception("shutdown(SHUT_WR)", -result, socket.peerContext());
            }
            socket.finSent = true;
        } finally {
            socket.descriptor.release();
        }
    }

    /**
     * Takes the socket's pending error, if there is one, into the record (getsockopt SO_ERROR,
     * in the control slot). For waits that no longer read: after the peer's FIN, every read
     * returns 0 first, so a RST that follows is seen by no read.
     *
     * @return whether a fatal error is recorded now
     */
    static boolean pollPendingError(NativeSocket socket) throws IOException {
        synchronized (socket.errors.controlLock()) {
            socket.errors.enter(FatalErrorRecord.CONTROL);
            try {
                takePendingError(socket, "getsockopt(SO_ERROR)");
            } finally {
                socket.errors.exit(FatalErrorRecord.CONTROL);
            }
        }
        return socket.errors.get() != null;
    }

    /** getsockopt(SO_ERROR) takes the pending error: the caller holds the control slot. */
    private static void takePendingError(NativeSocket socket, String call) throws IOException {
        int error = socket.options.getInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_ERROR);
        if (error != 0 && !FatalErrorRecord.isTransient(error)) {
            socket.errors.record(error, call);
        }
    }

    /**
     * send failed with EPIPE: our own shutdown, or a fatal error another call took (a reset, a
     * timeout), or the peer's RST after its FIN. Settle before deciding which.
     */
    static IOException brokenPipe(NativeSocket socket, String call) {
        FatalErrorRecord.Failure failure = socket.errors.settle();
        if (failure == null && socket.outputShutDown) {
            return new ConnectionClosedException(call + ": output was shut down", null);
        }
        if (failure == null) {
            socket.errors.record(Errno.EPIPE, call);
            failure = socket.errors.get();
        }
        return failure.exception(call, socket.peerContext());
    }
}
