package dev.tcpscope.internal.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The errno capture segments of {@link LinuxSyscalls}, lent out one per downcall: a caller
 * {@linkplain #claim() claims} one, passes it to the downcall, reads errno from it and
 * {@linkplain #release releases} it.
 *
 * <p>Why a pool: a segment per thread (a {@code ThreadLocal}) gave every virtual thread, so every
 * connection of a thread-per-connection server, its own automatic arena: about 350 bytes of heap
 * (segment, session, Cleaner registration, thread-local map) and a malloc'd block, kept while the
 * thread lives. The segment must belong to one caller from the downcall to the read of errno;
 * the number of callers in that window at once is bounded by the carriers (a virtual thread
 * cannot unmount inside a downcall) plus the platform threads in a system call, so a few slots
 * serve every thread. A claim is a compare-and-set on a flag, so a slot is never shared even if
 * a thread could move between carriers inside the window. If every slot is busy (more platform
 * threads in system calls at once than there are slots), the caller gets a fresh segment of an
 * automatic arena: slower, never wrong.
 *
 * <p>Each slot's segment and each flag sits on its own 64-byte cache line, so that callers on
 * different cores do not write to one line.
 */
final class CallStatePool {

    private static final int LINE = 64;
    private static final int FLAG_STRIDE = LINE / Integer.BYTES;
    private static final VarHandle FLAGS = MethodHandles.arrayElementVarHandle(int[].class);

    private final MemoryLayout layout;
    private final MemorySegment[] segments;
    private final int[] busy;
    private final int mask;
    private final long base;

    /** A pool of at least {@code minSlots} segments of {@code layout} (rounded up to a power of two). */
    CallStatePool(MemoryLayout layout, int minSlots) {
        if (layout.byteSize() > LINE) {
            throw new IllegalArgumentException("capture state larger than a cache line: " + layout);
        }
        int slots = Integer.highestOneBit(Math.max(1, minSlots - 1)) << 1;
        this.layout = layout;
        this.mask = slots - 1;
        this.segments = new MemorySegment[slots];
        this.busy = new int[slots * FLAG_STRIDE];
        MemorySegment block = Arena.global().allocate((long) slots * LINE, LINE);
        this.base = block.address();
        for (int i = 0; i < slots; i++) {
            segments[i] = block.asSlice((long) i * LINE, layout.byteSize(), layout.byteAlignment());
        }
    }

    /** {@return the number of slots} */
    int slots() {
        return segments.length;
    }

    /** {@return a segment that only the caller uses until it passes it to {@link #release}} */
    MemorySegment claim() {
        // Start where the caller's thread id points, so that callers spread over the slots.
        int start = (int) (Thread.currentThread().threadId() * 0x9E3779B97F4A7C15L >>> 40);
        for (int i = 0; i <= mask; i++) {
            int slot = (start + i) & mask;
            int flag = slot * FLAG_STRIDE;
            if ((int) FLAGS.getOpaque(busy, flag) == 0 && FLAGS.compareAndSet(busy, flag, 0, 1)) {
                return segments[slot];
            }
        }
        return Arena.ofAuto().allocate(layout);
    }

    /** Gives back a segment from {@link #claim}; the caller must not use it any more. */
    void release(MemorySegment segment) {
        long offset = segment.address() - base;
        if (offset >= 0 && offset < (long) segments.length * LINE) {
            FLAGS.setRelease(busy, (int) (offset / LINE) * FLAG_STRIDE, 0);
        }
        // else: an overflow segment, reclaimed by the garbage collector
    }
}
