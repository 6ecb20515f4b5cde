package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.poll.Deadline;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * One recv(2) on a {@link NativeSocket} and what its result means: bytes, the peer's FIN (0, once
 * the {@link FatalErrorRecord} has settled that no call took a reset meanwhile, and
 * {@link LostResetCheck} found none lost), nothing queued (EAGAIN), or a fatal error, recorded for
 * every later call. {@link NativeSocket#read} loops on it, parking in between; the graceful
 * ending ({@link LingeringClose}) reads what is queued without waiting.
 *
 * <p>Not on any parked stack (it returns before the caller parks), so the frame it would add
 * costs no memory per idle connection.
 */
final class Receiving {

    /** What {@link #readQueued} returns when another thread holds the read lock. */
    static final int READER_BUSY = -2;

    private Receiving() {}

    /**
     * For the graceful ending: reads what is queued, without waiting, unless another thread is
     * reading (that reader then takes the bytes, and the FIN, itself).
     *
     * @return the number of bytes read, -1 at the peer's FIN, 0 if nothing is queued, or
     *         {@link #READER_BUSY}
     * @throws dev.tcpscope.ConnectionResetException the peer reset the connection (now or earlier)
     */
    static int readQueued(NativeSocket socket, MemorySegment buffer) throws IOException {
        if (!socket.readLock.tryLock()) {
            return READER_BUSY;
        }
        try {
            int fd = socket.descriptor.acquire();
            try {
                return receive(socket, fd, buffer);
            } finally {
                socket.descriptor.release();
            }
        } finally {
            socket.readLock.unlock();
        }
    }

    /**
     * {@return whether {@link NativeSocket#read} may wait for the next readable edge before its
     * first recv}: the last recv emptied the queue and no edge has come since
     * ({@link dev.tcpscope.internal.poll.SocketDescriptor#mayWaitBeforeRecv}), and the read is
     * one that would wait anyway: its thread is not interrupted and its deadline has not passed.
     * An interrupted read, or one past its deadline, still makes its one recv and gets whatever
     * is queued, as it did before reads could wait first.
     */
    static boolean mayWaitFirst(NativeSocket socket, long deadline) {
        return socket.descriptor.mayWaitBeforeRecv()
                && !Thread.currentThread().isInterrupted()
                && (deadline == Deadline.NONE || deadline - System.nanoTime() > 0);
    }

    /**
     * One recv (retried on EINTR) on {@code socket}'s descriptor {@code fd}; the caller holds the
     * read lock and a reference.
     *
     * @return the number of bytes read, -1 at the peer's FIN, or 0 if nothing is queued (EAGAIN)
     */
    static int receive(NativeSocket socket, int fd, MemorySegment buffer) throws IOException {
        while (true) {
            // No check for a remembered error first: bytes that arrived before a reset
            // are still queued, and are delivered before it is reported.
            long n;
            socket.errors.enter(FatalErrorRecord.RECEIVE);
            try {
                n = socket.syscalls.recv(fd, buffer);
                if (n < 0 && !FatalErrorRecord.isTransient((int) -n)) {
                    socket.errors.record((int) -n, "recv");
                }
            } finally {
                socket.errors.exit(FatalErrorRecord.RECEIVE);
            }
            if (n > 0) {
                socket.addBytesRead(n); // under the read lock: the only writer
                return (int) n;
            }
            if (n == 0) {
                FatalErrorRecord.Failure failure = failureBehindZeroRead(socket);
                if (failure != null) {
                    throw failure.exception("read", socket.peerContext());
                }
                return -1;
            }
            int errno = (int) -n;
            if (errno == Errno.EAGAIN) {
                return 0;
            }
            if (errno != Errno.EINTR) {
                throw Errno.exception("recv", errno, socket.peerContext());
            }
        }
    }

    /**
     * A read (recv, readv, splice) returned 0: the peer's FIN, or a fatal error another call took.
     * {@return the failure it stands for, or null for the FIN} Only the record, once every call
     * in flight has written to it, can tell ({@link FatalErrorRecord#settle}); then a reset that
     * splice or sendfile may have lost ({@link LostResetCheck}).
     */
    static FatalErrorRecord.Failure failureBehindZeroRead(NativeSocket socket) {
        FatalErrorRecord.Failure failure = socket.errors.settle();
        return failure != null ? failure : LostResetCheck.afterZeroRead(socket);
    }
}
