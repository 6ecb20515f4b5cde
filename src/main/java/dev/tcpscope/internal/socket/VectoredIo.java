package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.ffi.x86_64.iovec;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.poll.Deadline;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;
import java.util.Objects;

/**
 * Gathering writes (writev(2)) and scattering reads (readv(2)) of a {@link NativeSocket}, with
 * the rules of its single-buffer {@code read} and {@code write}: the direction's lock, a
 * descriptor reference for the whole call, every system call inside the direction's
 * {@link FatalErrorRecord} slot, a 0 from readv believed to be FIN only after settling, EPIPE
 * settled before it is believed, the poller wait on EAGAIN, the byte counters.
 *
 * <p><b>Memory.</b> An iovec holds addresses, so it can point only into native memory: a native
 * segment (a direct buffer) is passed as it is, without a copy; a heap segment is copied into a
 * native staging area (at most {@link #MAX_STAGED} bytes per call, as the critical recv and send
 * bound a heap transfer; a write then sends the rest in later calls, a read returns what fitted).
 * The iovec array and the staging area live in a confined arena for the call. Each native segment
 * is touched once before the first system call, so that a closed arena or another thread's
 * confined segment is the caller's exception with nothing sent or read; a shared arena closed by
 * another thread <em>during</em> the call is not held open (the JDK keeps only a downcall's
 * argument segments alive, and these are inside the iovec): the caller must not free memory it
 * has handed to a call in progress.
 */
final class VectoredIo {

    private static final long IOVEC_SIZE = iovec.layout().byteSize();
    private static final long BASE_OFFSET = iovec.iov_base$offset();
    private static final long LENGTH_OFFSET = iovec.iov_len$offset();

    /** The most iovec entries per call: IOV_MAX is 1024; 64 keeps the array to 1 KiB. */
    static final int MAX_ENTRIES = 64;

    /** The most bytes of heap segments staged per call. */
    static final long MAX_STAGED = 128 * 1024;

    private VectoredIo() {}

    /** Writes every segment's bytes in order; see {@link NativeSocket#writeGathering}. */
    static void write(NativeSocket socket, MemorySegment[] buffers, long deadline) throws IOException {
        long total = touchAll(buffers);
        if (total == 0) {
            return;
        }
        Deadline.lock(socket.writeLock, deadline, "write");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment iov = arena.allocate(IOVEC_SIZE * MAX_ENTRIES, 8);
            MemorySegment staging = null;
            int fd = socket.descriptor.acquire();
            try {
                int index = 0;      // the first segment with bytes left
                long offset = 0;    // how far into it
                while (index < buffers.length) {
                    if (offset == buffers[index].byteSize()) {
                        index++;
                        offset = 0;
                        continue;
                    }
                    socket.throwIfFailed("write");
                    // Build the iovec from (index, offset): native segments in place, heap ones
                    // staged, stopping when the entries or the staging area run out.
                    int count = 0;
                    long staged = 0;
                    for (int i = index; i < buffers.length && count < MAX_ENTRIES; i++) {
                        MemorySegment segment = buffers[i];
                        long from = i == index ? offset : 0;
                        long size = segment.byteSize() - from;
                        if (size == 0) {
                            continue;
                        }
                        MemorySegment part;
                        if (segment.isNative()) {
                            part = segment.asSlice(from, size);
                        } else {
                            if (staging == null) {
                                staging = arena.allocate(stagingSize(buffers));
                            }
                            long length = Math.min(size, staging.byteSize() - staged);
                            if (length == 0) {
                                break;
                            }
                            part = staging.asSlice(staged, length);
                            MemorySegment.copy(segment, from, part, 0, length);
                            staged += length;
                            size = length < size ? -1 : size; // -1: the staging area is full
                        }
                        entry(iov, count++, part);
                        if (size < 0) {
                            break; // the rest of this segment goes in the next call, in order
                        }
                    }
                    long n;
                    socket.errors.enter(FatalErrorRecord.SEND);
                    try {
                        n = socket.syscalls.writev(fd, iov, count);
                        // EPIPE is recorded only after settling, as send's: it often means the error went elsewhere.
                        if (n < 0 && n != -Errno.EPIPE && !FatalErrorRecord.isTransient((int) -n)) {
                            socket.errors.record((int) -n, "writev");
                        }
                    } finally {
                        socket.errors.exit(FatalErrorRecord.SEND);
                    }
                    if (n >= 0) {
                        socket.addBytesWritten(n);
                        // Advance (index, offset) by n.
                        long left = n;
                        while (left > 0) {
                            long room = buffers[index].byteSize() - offset;
                            if (left < room) {
                                offset += left;
                                left = 0;
                            } else {
                                left -= room;
                                index++;
                                offset = 0;
                            }
                        }
                        continue;
                    }
                    int errno = (int) -n;
                    if (errno == Errno.EAGAIN) {
                        socket.descriptor.awaitWritable(deadline, "write");
                    } else if (errno == Errno.EPIPE) {
                        throw OutputShutdown.brokenPipe(socket, "writev");
                    } else if (errno != Errno.EINTR) {
                        throw Errno.exception("writev", errno, socket.peerContext());
                    }
                }
            } finally {
                socket.descriptor.release();
            }
        } finally {
            socket.writeLock.unlock();
            Reference.reachabilityFence(buffers);
        }
    }

    /**
     * Reads into the segments in order, waiting until at least one byte arrives; see
     * {@link NativeSocket#readScattering}.
     */
    static long read(NativeSocket socket, MemorySegment[] buffers, long deadline) throws IOException {
        long total = touchAll(buffers);
        if (total == 0) {
            return 0;
        }
        Deadline.lock(socket.readLock, deadline, "read");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment iov = arena.allocate(IOVEC_SIZE * MAX_ENTRIES, 8);
            MemorySegment staging = null;
            // Per entry: its length, and for a staged one the heap segment it goes back to (-1:
            // native, read in place) and where in the staging area it is.
            long[] entryLength = new long[MAX_ENTRIES];
            int[] entryStaged = new int[MAX_ENTRIES];
            long[] stagedAt = new long[MAX_ENTRIES];
            int count = 0;
            long staged = 0;
            for (int i = 0; i < buffers.length && count < MAX_ENTRIES; i++) {
                MemorySegment segment = buffers[i];
                if (segment.byteSize() == 0) {
                    continue;
                }
                if (segment.isNative()) {
                    entryStaged[count] = -1;
                    entryLength[count] = segment.byteSize();
                    entry(iov, count++, segment);
                    continue;
                }
                if (staging == null) {
                    staging = arena.allocate(stagingSize(buffers));
                }
                long length = Math.min(segment.byteSize(), staging.byteSize() - staged);
                if (length == 0) {
                    break;
                }
                entryStaged[count] = i;
                stagedAt[count] = staged;
                entryLength[count] = length;
                entry(iov, count++, staging.asSlice(staged, length));
                staged += length;
                if (length < segment.byteSize()) {
                    break; // a read fills in order: nothing may follow a partly staged segment
                }
            }
            int fd = socket.descriptor.acquire();
            try {
                while (true) {
                    long n;
                    socket.errors.enter(FatalErrorRecord.RECEIVE);
                    try {
                        n = socket.syscalls.readv(fd, iov, count);
                        if (n < 0 && !FatalErrorRecord.isTransient((int) -n)) {
                            socket.errors.record((int) -n, "readv");
                        }
                    } finally {
                        socket.errors.exit(FatalErrorRecord.RECEIVE);
                    }
                    if (n > 0) {
                        socket.addBytesRead(n);
                        copyBack(buffers, staging, entryLength, count, n, entryStaged, stagedAt);
                        return n;
                    }
                    if (n == 0) {
                        FatalErrorRecord.Failure failure = Receiving.failureBehindZeroRead(socket);
                        if (failure != null) {
                            throw failure.exception("read", socket.peerContext());
                        }
                        return -1;
                    }
                    int errno = (int) -n;
                    if (errno == Errno.EAGAIN) {
                        socket.descriptor.awaitReadable(deadline, "read");
                    } else if (errno != Errno.EINTR) {
                        throw Errno.exception("readv", errno, socket.peerContext());
                    }
                }
            } finally {
                socket.descriptor.release();
            }
        } finally {
            socket.readLock.unlock();
            Reference.reachabilityFence(buffers);
        }
    }

    /**
     * Copies the staged part of the {@code n} bytes read back into their heap segments. The bytes
     * fill the entries in order; {@code entryStaged[e]} is the segment a staged entry belongs to
     * (-1 for a native one, read in place), its range starting at {@code stagedAt[e]}.
     */
    private static void copyBack(MemorySegment[] buffers, MemorySegment staging, long[] entryLength, int count,
                                 long n, int[] entryStaged, long[] stagedAt) {
        long before = 0;
        for (int e = 0; e < count && before < n; e++) {
            long landed = Math.min(entryLength[e], n - before);
            if (entryStaged[e] >= 0) {
                MemorySegment.copy(staging, stagedAt[e], buffers[entryStaged[e]], 0, landed);
            }
            before += entryLength[e];
        }
    }

    /**
     * {@return the staging area's size: the heap segments' bytes, at most {@link #MAX_STAGED}}
     * Sized to what is there, not to the maximum: the arena zeroes what it allocates, and a
     * header and a body of a few hundred bytes must not cost a 128 KiB allocation per call.
     */
    private static long stagingSize(MemorySegment[] buffers) {
        long heap = 0;
        for (MemorySegment buffer : buffers) {
            if (!buffer.isNative()) {
                heap += buffer.byteSize();
            }
        }
        return Math.min(heap, MAX_STAGED);
    }

    private static void entry(MemorySegment iov, int index, MemorySegment part) {
        iov.set(ValueLayout.ADDRESS, index * IOVEC_SIZE + BASE_OFFSET, part);
        iov.set(ValueLayout.JAVA_LONG, index * IOVEC_SIZE + LENGTH_OFFSET, part.byteSize());
    }

    /**
     * {@return the total size} Touches the first byte of every non-empty segment, so that a
     * closed arena ({@link IllegalStateException}) or a confined segment of another thread
     * ({@link WrongThreadException}) is the caller's exception before any byte moves.
     */
    private static long touchAll(MemorySegment[] buffers) {
        long total = 0;
        for (MemorySegment buffer : buffers) {
            Objects.requireNonNull(buffer, "buffer");
            if (buffer.byteSize() > 0) {
                buffer.get(ValueLayout.JAVA_BYTE, 0);
                total += buffer.byteSize();
            }
        }
        return total;
    }
}
