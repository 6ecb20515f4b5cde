package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.poll.Deadline;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * The write path of a {@link NativeSocket}: send(2) of one buffer until every byte went out,
 * under the socket's write lock and a descriptor reference for the whole call, parking on the
 * poller whenever the send buffer is full. Each send runs inside the {@link FatalErrorRecord}'s
 * SEND slot; a fatal error is recorded there for every later call, except EPIPE, which is settled
 * first ({@link OutputShutdown#brokenPipe}): it often means that the error went elsewhere.
 *
 * <p>The read path stays in {@link NativeSocket#read}: every idle connection parks in it, and a
 * frame more on each parked stack is memory per connection.
 */
final class SendLoop {

    private SendLoop() {}

    /** Writes all of {@code buffer}; see {@link NativeSocket#write}. */
    static void write(NativeSocket socket, MemorySegment buffer, long deadline) throws IOException {
        Objects.requireNonNull(buffer, "buffer");
        Deadline.lock(socket.writeLock, deadline, "write");
        try {
            int fd = socket.descriptor.acquire();
            try {
                long offset = 0;
                long size = buffer.byteSize();
                while (offset < size) {
                    socket.throwIfFailed("write");
                    long n;
                    socket.errors.enter(FatalErrorRecord.SEND);
                    try {
                        n = socket.syscalls.send(fd, offset == 0 ? buffer : buffer.asSlice(offset));
                        // EPIPE is recorded only after settling: it often means the error went elsewhere.
                        if (n < 0 && n != -Errno.EPIPE && !FatalErrorRecord.isTransient((int) -n)) {
                            socket.errors.record((int) -n, "send");
                        }
                    } finally {
                        socket.errors.exit(FatalErrorRecord.SEND);
                    }
                    if (n >= 0) {
                        offset += n;
                        socket.addBytesWritten(n); // under the write lock: the only writer
                        continue;
                    }
                    int errno = (int) -n;
                    if (errno == Errno.EAGAIN) {
                        socket.descriptor.awaitWritable(deadline, "write");
                    } else if (errno == Errno.EPIPE) {
                        throw OutputShutdown.brokenPipe(socket, "send");
                    } else if (errno != Errno.EINTR) {
                        throw Errno.exception("send", errno, socket.peerContext());
                    }
                }
            } finally {
                socket.descriptor.release();
            }
        } finally {
            socket.writeLock.unlock();
        }
    }
}
