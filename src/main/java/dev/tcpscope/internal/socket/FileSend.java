package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.poll.Deadline;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Sends a file over a {@link NativeSocket} with sendfile(2): the kernel moves the file's pages to
 * the socket, no byte passes through Java memory.
 *
 * <p>The file is opened here, with open(2) {@code O_RDONLY | O_CLOEXEC} (no public API exposes
 * a {@code FileChannel}'s descriptor), and closed exactly once, in a {@code finally}, whatever
 * happens after the open: success, a reset, a timeout, an interrupt, an Error. close(2) is never
 * retried (on Linux the descriptor is released even when it reports EINTR).
 *
 * <p>Each sendfile runs inside the sending direction's {@link FatalErrorRecord} slot, under the
 * write lock, as send does: sendfile can take the socket's pending error. Its errors are of two
 * kinds. Those of the file (EIO, EINVAL for a file sendfile cannot map, EISDIR, EOVERFLOW,
 * ESPIPE) say nothing about the connection and are not remembered: the call throws a
 * {@link FileSystemException} naming the file. Every other fatal errno is the socket's and is
 * remembered like send's; EPIPE is settled first, as for send.
 */
public final class FileSend {

    /**
     * The cell sendfile reads the file offset from and advances: {@code off_t}, 64 bits on both
     * native architectures (AbiProbeTest checks it against C).
     */
    public static final ValueLayout.OfLong OFF_T = Libc.C_LONG;

    private static final int OPEN_FLAGS = Libc.O_RDONLY() | Libc.O_CLOEXEC();

    /**
     * The most bytes one sendfile is asked for. Linux moves at most 0x7ffff000 per call anyway;
     * 1 MiB keeps each call (and the time the error slot is odd) short, like the 128 KiB bound
     * of a critical send, without costing a loopback transfer anything measurable.
     */
    static final long CHUNK = 1024 * 1024;

    private FileSend() {}

    /**
     * Sends {@code count} bytes of {@code file} from {@code position}, or everything from there
     * to the end when {@code count} is negative.
     *
     * @return the number of bytes sent
     * @throws NoSuchFileException   the file (or a directory on its path) does not exist; nothing sent
     * @throws AccessDeniedException the file may not be read; nothing sent
     * @throws EOFException          the file ended before {@code count} bytes (what was before went out)
     */
    static long send(NativeSocket socket, Path file, long position, long count, long deadline) throws IOException {
        String name = file.toAbsolutePath().toString();
        Deadline.lock(socket.writeLock, deadline, "sendFile");
        try (Arena arena = Arena.ofConfined()) {
            int fileFd = socket.syscalls.open(arena.allocateFrom(name), OPEN_FLAGS);
            if (fileFd < 0) {
                throw openFailure(file, -fileFd);
            }
            try {
                MemorySegment offset = arena.allocate(OFF_T);
                offset.set(OFF_T, 0, position);
                return sendOpen(socket, file, fileFd, offset, position, count, deadline);
            } finally {
                socket.syscalls.close(fileFd); // once, on every path; never retried
            }
        } finally {
            socket.writeLock.unlock();
        }
    }

    private static long sendOpen(NativeSocket socket, Path file, int fileFd, MemorySegment offset, long position,
                                 long count, long deadline) throws IOException {
        socket.lossySends = true; // before the first sendfile: LostResetCheck
        int fd = socket.descriptor.acquire();
        try {
            long sent = 0;
            while (count < 0 || sent < count) {
                socket.throwIfFailed("sendFile");
                long want = count < 0 ? CHUNK : Math.min(CHUNK, count - sent);
                long n;
                socket.errors.enter(FatalErrorRecord.SEND);
                try {
                    n = socket.syscalls.sendfile(fd, fileFd, offset, want);
                    if (n < 0 && n != -Errno.EPIPE && !FatalErrorRecord.isTransient((int) -n)
                            && !isFileError((int) -n)) {
                        socket.errors.record((int) -n, "sendfile");
                    }
                } finally {
                    socket.errors.exit(FatalErrorRecord.SEND);
                }
                if (n > 0) {
                    sent += n;
                    socket.addBytesWritten(n);
                    continue;
                }
                if (n == 0) {
                    if (count < 0) {
                        break; // the end of the file
                    }
                    throw new EOFException("sendFile " + file + ": the file ended at byte " + (position + sent)
                            + ", " + (count - sent) + " bytes short of the " + count + " asked for");
                }
                int errno = (int) -n;
                if (errno == Errno.EAGAIN) {
                    socket.descriptor.awaitWritable(deadline, "sendFile");
                } else if (errno == Errno.EPIPE) {
                    throw OutputShutdown.brokenPipe(socket, "sendfile");
                } else if (isFileError(errno)) {
                    throw new FileSystemException(file.toString(), null, "sendfile: " + Errno.describe(errno));
                } else if (errno != Errno.EINTR) {
                    throw Errno.exception("sendfile", errno, socket.peerContext());
                }
            }
            return sent;
        } finally {
            socket.descriptor.release();
        }
    }

    /** {@return whether sendfile's {@code errno} is about the file, not the connection} */
    static boolean isFileError(int errno) {
        return errno == Errno.EIO || errno == Errno.EINVAL || errno == Errno.EISDIR || errno == Errno.EOVERFLOW
                || errno == Errno.ESPIPE || errno == Errno.EBADF;
    }

    /** {@return open(2)'s failure as the exception java.nio.file would throw for it} */
    static IOException openFailure(Path file, int errno) {
        String name = file.toString();
        if (errno == Errno.ENOENT) {
            return new NoSuchFileException(name);
        }
        if (errno == Errno.EACCES || errno == Errno.EPERM) {
            return new AccessDeniedException(name);
        }
        if (errno == Errno.EMFILE || errno == Errno.ENFILE) {
            return Errno.exception("open", errno, name); // typed like accept's: out of descriptors
        }
        return new FileSystemException(name, null, "open: " + Errno.describe(errno));
    }
}
