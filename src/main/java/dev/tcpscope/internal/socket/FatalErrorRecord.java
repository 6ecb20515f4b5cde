package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.os.Errno;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The fatal error of a connected socket, remembered for every thread, because Linux reports it
 * only once.
 *
 * <p><b>The hazard.</b> When the peer resets (or the connection times out), the kernel stores one
 * pending error on the socket. The first call that looks — {@code recv}, {@code send},
 * {@code getsockopt(SO_ERROR)}, on any thread — takes it, and every later {@code recv} returns 0,
 * exactly what a FIN returns. With one thread reading and another writing, the reader can get 0
 * for a reset that the writer's {@code send} took a moment earlier and has not yet recorded: a
 * reset would read as a clean end, the one lie this library exists to prevent. The kernel cannot
 * tell the two apart afterwards ({@code tcpi_state} is TCP_CLOSE after a reset and after a
 * graceful exchange alike), so the record must be the library's own, and it must never depend
 * on timing.
 *
 * <p><b>The design.</b> Every call that can take the pending error runs inside a <em>slot</em>:
 * one for the receiving direction, one for the sending direction (each used only by the holder
 * of that direction's lock), and one for control calls (shutdown, SO_ERROR), which take a small
 * lock of their own. A slot is a sequence number, odd while a call is in the kernel:
 * <pre>
 *   slot = odd  →  system call  →  record(what it saw)  →  slot = even
 * </pre>
 * A call whose result is ambiguous — {@code recv} returning 0, {@code send} failing with EPIPE,
 * {@code shutdown} failing with ENOTCONN — leaves its own slot and then {@linkplain #settle()
 * settles}: it snapshots the other slots and waits until each one that was odd has moved on, then
 * reads the record. If another call took the error before our call's result, that call had
 * already made its slot odd (its volatile write precedes its system call, which precedes ours in
 * the kernel's own ordering of the socket), so the settling call either sees the slot odd and
 * waits for it, or sees it even and then also sees the error it recorded before leaving. The wait
 * is for non-blocking system calls already in progress, never for a parked thread: it is short,
 * and bounded by the calls that were in flight at the snapshot.
 *
 * <p>Only the first fatal error is kept, except that EPIPE — which often only says that the
 * error was reported elsewhere — gives way to a more telling errno recorded later.
 */
final class FatalErrorRecord {

    /** The receiving direction's slot: recv, under the read lock. */
    static final int RECEIVE = 0;
    /** The sending direction's slot: send, connect's SO_ERROR, under the write lock. */
    static final int SEND = 1;
    /** The control slot: shutdown and SO_ERROR outside connect, under {@link #controlLock}. */
    static final int CONTROL = 2;
    private static final int SLOTS = 3;

    /** A remembered error: the errno and the call that first reported it. */
    record Failure(int errno, String call) {
        /** {@return the exception for {@code operation}, of the type the errno maps to} */
        IOException exception(String operation, String context) {
            return Errno.exception(operation, errno,
                    (context != null ? context + " " : "") + "(first reported by " + call + ")");
        }
    }

    private static final VarHandle SEQUENCES = MethodHandles.arrayElementVarHandle(long[].class);

    // Where each slot's sequence sits in `sequences`: the receiving and the sending slot 64 bytes
    // apart, so that a reader and a writer on two cores never write to one cache line; the
    // control slot (rare calls, mostly by the finishing thread, which is also the reader then)
    // next to the receiving one. 9 longs rather than one padded line per slot: this record is
    // per connection.
    private static final int[] INDEX = {0, 8, 1};
    private final long[] sequences = new long[9];
    private volatile Failure failure;

    /** Marks a call in {@code slot} as in the kernel; the caller holds the slot's lock. */
    void enter(int slot) {
        long s = (long) SEQUENCES.getOpaque(sequences, INDEX[slot]);
        SEQUENCES.setVolatile(sequences, INDEX[slot], s + 1);
    }

    /** Marks the call in {@code slot} as done; whatever it saw was recorded before this. */
    void exit(int slot) {
        long s = (long) SEQUENCES.getOpaque(sequences, INDEX[slot]);
        SEQUENCES.setVolatile(sequences, INDEX[slot], s + 1);
    }

    /** {@return the lock that makes control calls take the control slot one at a time} */
    Object controlLock() {
        return sequences; // any object private to this record would do: this one exists already
    }

    /**
     * Records a fatal error seen by {@code call}. Transient errors (EAGAIN, EINTR, ENOBUFS,
     * ENOMEM) are not fatal and must not be passed here.
     */
    void record(int errno, String call) {
        synchronized (this) {
            Failure current = failure;
            if (current == null || (current.errno() == Errno.EPIPE && errno != Errno.EPIPE)) {
                failure = new Failure(errno, call);
            }
        }
    }

    /** {@return the remembered error, or null} Does not wait for calls in flight. */
    Failure get() {
        return failure;
    }

    /**
     * Waits until every call that was in the kernel when this is called has recorded what it saw,
     * then returns the remembered error, or null. The caller must have left its own slot.
     */
    Failure settle() {
        long[] snapshot = new long[SLOTS];
        for (int i = 0; i < SLOTS; i++) {
            snapshot[i] = (long) SEQUENCES.getVolatile(sequences, INDEX[i]);
        }
        for (int i = 0; i < SLOTS; i++) {
            if ((snapshot[i] & 1) == 0) {
                continue;
            }
            // A non-blocking system call is in progress on another thread: it ends in microseconds
            // unless that thread is descheduled, so spin briefly, then yield the processor.
            for (int spins = 0; (long) SEQUENCES.getVolatile(sequences, INDEX[i]) == snapshot[i]; spins++) {
                if (spins < 100) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
        }
        return failure;
    }

    /** {@return whether {@code errno} is transient: retried or waited out, never remembered} */
    static boolean isTransient(int errno) {
        return errno == Errno.EAGAIN || errno == Errno.EINTR || errno == Errno.ENOBUFS || errno == Errno.ENOMEM;
    }
}
