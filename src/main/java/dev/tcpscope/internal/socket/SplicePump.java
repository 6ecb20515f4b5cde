package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.poll.Deadline;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;

/**
 * Moves bytes from one {@link NativeSocket} to another with splice(2) through a pipe of its own:
 * socket → pipe → socket, the payload never entering Java memory (the kernel moves page
 * references where it can, SPLICE_F_MOVE).
 *
 * <p><b>The pipe's fill is tracked.</b> splice returns EAGAIN both when the source socket has
 * nothing queued and when the pipe is full, and a pipe fills by buffers, not bytes (one socket
 * fragment per slot), so a byte count cannot tell "full". The pump counts the bytes it put in the
 * pipe and took out: with the pipe empty, EAGAIN from the source is the socket's, and the pump
 * parks on the poller until it is readable; with bytes in the pipe it drains them to the target
 * first (which either frees room or shows that the target's send buffer is full — EAGAIN from a
 * non-empty pipe to a socket is the socket's — and then parks until the target is writable).
 *
 * <p><b>The remembered-error rule.</b> Each splice from the source runs in the source's
 * receiving {@link FatalErrorRecord} slot (under its read lock), each splice to the target in the
 * target's sending slot (under its write lock). A 0 from the source is its FIN only if, once
 * settled, no fatal error was recorded — after another call took a reset, splice returns 0 just as
 * recv does — so an upstream reset always throws, never ends the pump like a FIN.
 *
 * <p><b>Endings.</b> The pump returns at the source's FIN, once every byte is in the target's send
 * buffer; it sends nothing itself (the caller passes the FIN on). On a failure of the source it
 * first drains what is already in the pipe to the target, as a copy loop would have written it
 * before its next read, then throws; on a failure of the target the bytes still in the pipe are
 * lost with the connection, which the failed write has poisoned anyway. The pipe's two
 * descriptors are closed exactly once, on every path.
 */
final class SplicePump {

    /** Asked for per splice: a default pipe's capacity (16 pages). */
    static final long CHUNK = 64 * 1024;

    private static final int PIPE_FLAGS = Libc.O_CLOEXEC() | Libc.O_NONBLOCK();
    private static final int SPLICE_FLAGS = Libc.SPLICE_F_MOVE() | Libc.SPLICE_F_NONBLOCK();

    private SplicePump() {}

    /** {@return the bytes moved from {@code source} to {@code target} until the source's FIN} */
    static long pump(NativeSocket source, NativeSocket target, Duration readTimeout, Duration writeTimeout)
            throws IOException {
        if (source == target) {
            throw new IllegalArgumentException("a connection cannot be pumped into itself");
        }
        Deadline.lock(source.readLock, Deadline.after(readTimeout), "transferTo");
        try {
            Deadline.lock(target.writeLock, Deadline.after(writeTimeout), "transferTo");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
                int r = source.syscalls.pipe2(fds, PIPE_FLAGS);
                if (r < 0) {
                    throw Errno.exception("pipe2", -r, null);
                }
                int pipeRead = fds.getAtIndex(ValueLayout.JAVA_INT, 0);
                int pipeWrite = fds.getAtIndex(ValueLayout.JAVA_INT, 1);
                try {
                    return pumpThrough(source, target, pipeRead, pipeWrite, readTimeout, writeTimeout);
                } finally {
                    source.syscalls.close(pipeWrite); // each once, on every path; never retried
                    source.syscalls.close(pipeRead);
                }
            } finally {
                target.writeLock.unlock();
            }
        } finally {
            source.readLock.unlock();
        }
    }

    private static long pumpThrough(NativeSocket source, NativeSocket target, int pipeRead, int pipeWrite,
                                    Duration readTimeout, Duration writeTimeout) throws IOException {
        target.lossySends = true; // before its first splice: LostResetCheck
        int in = source.descriptor.acquire();
        try {
            int out = target.descriptor.acquire();
            try {
                long moved = 0;
                long fill = 0;        // bytes in the pipe: only this call uses it
                boolean finSeen = false;
                while (true) {
                    if (!finSeen) {
                        long n = spliceIn(source, in, pipeWrite);
                        if (n > 0) {
                            fill += n;
                        } else if (n == 0) {
                            FatalErrorRecord.Failure failure = Receiving.failureBehindZeroRead(source);
                            if (failure != null) {
                                drainThenThrow(target, out, pipeRead, fill, writeTimeout,
                                        failure.exception("transferTo", source.peerContext()));
                            }
                            finSeen = true;
                        } else if (n == -Errno.EAGAIN) {
                            if (fill == 0) {
                                // The pipe is empty, so it is the socket that has nothing queued.
                                source.descriptor.awaitReadable(Deadline.after(readTimeout), "transferTo");
                                continue;
                            }
                            // Maybe the pipe is full: drain it below.
                        } else if (n != -Errno.EINTR) {
                            drainThenThrow(target, out, pipeRead, fill, writeTimeout,
                                    Errno.exception("splice", (int) -n, source.peerContext()));
                        }
                    }
                    if (fill > 0) {
                        long n = spliceOut(target, pipeRead, out, fill, writeTimeout);
                        fill -= n;
                        moved += n;
                    } else if (finSeen) {
                        return moved;
                    }
                }
            } finally {
                target.descriptor.release();
            }
        } finally {
            source.descriptor.release();
        }
    }

    /** One splice from the source socket into the pipe, in the source's receiving slot. */
    private static long spliceIn(NativeSocket source, int in, int pipeWrite) {
        long n;
        source.errors.enter(FatalErrorRecord.RECEIVE);
        try {
            n = source.syscalls.splice(in, pipeWrite, CHUNK, SPLICE_FLAGS);
            if (n < 0 && !FatalErrorRecord.isTransient((int) -n)) {
                source.errors.record((int) -n, "splice");
            }
        } finally {
            source.errors.exit(FatalErrorRecord.RECEIVE);
        }
        if (n > 0) {
            source.addBytesRead(n); // under the source's read lock
        }
        return n;
    }

    /**
     * Moves some of the {@code fill} bytes in the pipe to the target, parking while its send
     * buffer is full. {@return how many moved, at least one}
     */
    private static long spliceOut(NativeSocket target, int pipeRead, int out, long fill, Duration writeTimeout)
            throws IOException {
        while (true) {
            target.throwIfFailed("transferTo");
            long n;
            target.errors.enter(FatalErrorRecord.SEND);
            try {
                n = target.syscalls.splice(pipeRead, out, fill, SPLICE_FLAGS);
                // EPIPE is recorded only after settling, as send's.
                if (n < 0 && n != -Errno.EPIPE && !FatalErrorRecord.isTransient((int) -n)) {
                    target.errors.record((int) -n, "splice");
                }
            } finally {
                target.errors.exit(FatalErrorRecord.SEND);
            }
            if (n > 0) {
                target.addBytesWritten(n); // under the target's write lock
                return n;
            }
            int errno = (int) -n;
            if (n == 0) {
                throw new AssertionError("splice from a pipe holding " + fill + " bytes returned 0");
            } else if (errno == Errno.EAGAIN) {
                // The pipe holds bytes, so it is the target's send buffer that is full.
                target.descriptor.awaitWritable(Deadline.after(writeTimeout), "transferTo");
            } else if (errno == Errno.EPIPE) {
                throw OutputShutdown.brokenPipe(target, "splice");
            } else if (errno != Errno.EINTR) {
                throw Errno.exception("splice", errno, target.peerContext());
            }
        }
    }

    /**
     * The source failed: writes what is already in the pipe to the target (what a copy loop
     * would have written before its failing read), then throws the source's failure.
     */
    private static void drainThenThrow(NativeSocket target, int out, int pipeRead, long fill, Duration writeTimeout,
                                       IOException failure) throws IOException {
        try {
            while (fill > 0) {
                fill -= spliceOut(target, pipeRead, out, fill, writeTimeout);
            }
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
        throw failure;
    }
}
