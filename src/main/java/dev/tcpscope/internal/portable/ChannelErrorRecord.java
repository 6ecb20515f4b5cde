package dev.tcpscope.internal.portable;

import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The fatal error of a {@link PortableSocket}, remembered for every thread: the portable
 * counterpart of the native transport's {@code FatalErrorRecord}, whose design it follows.
 *
 * <p><b>The hazard is the same.</b> The kernel reports a reset once, to whichever call looks
 * first, and the JDK's channels pass that on: a read that sees it throws
 * {@code SocketException("Connection reset")} (and the channel remembers it for its own later
 * reads), but when a write on another thread took it ("Connection reset by peer"), the next read
 * gets 0 from the kernel and the channel returns -1 — what a FIN returns.
 *
 * <p><b>The design is the same.</b> Every channel call that can take the error (read, write,
 * shutdownOutput) runs inside a slot of its direction, a sequence number that is odd while the
 * call is under way, and records what it saw before leaving. A read that gets -1 (and a write
 * that gets "Broken pipe") leaves its slot, then settles: waits until every slot that was odd at
 * that moment has moved on, then reads the record. A -1 is believed only then.
 *
 * <p><b>One difference.</b> The native transport's calls are non-blocking, so a slot is odd only
 * for microseconds and settling spins. A JDK channel call in blocking mode may park inside the
 * JDK (a write on a full send buffer), so here settling waits on a monitor, bounded by the
 * caller's deadline. A call that took the error returns at once (the JDK's poller wakes it on the
 * error), so the wait is short whenever there is something to find; it is long only when another
 * thread's write is parked on a full buffer while the peer merely half-closed. Then the -1 waits
 * for that write to make progress, to fail, or for the reader's deadline (a
 * {@link SocketTimeoutException}; the -1 is returned by a later read): the JDK gives no way to
 * tell a write parked on a full buffer from one about to report a reset, and the rule that a -1
 * is never a hidden reset comes first.
 */
final class ChannelErrorRecord {

    /** The receiving direction's slot (reads, under the read lock). */
    static final int RECEIVE = 0;
    /** The sending direction's slot (writes, under the write lock). */
    static final int SEND = 1;
    /** The control slot (shutdownOutput, under {@link #controlLock()}). */
    static final int CONTROL = 2;
    private static final int SLOTS = 3;

    private final AtomicLongArray sequences = new AtomicLongArray(SLOTS);
    private final AtomicInteger settlers = new AtomicInteger(); // threads waiting in settle()
    private final Object monitor = new Object();
    private volatile ChannelFailures.Failure failure;

    /** Marks a call in {@code slot} as under way; the caller holds the slot's lock. */
    void enter(int slot) {
        sequences.incrementAndGet(slot);
    }

    /** Marks the call in {@code slot} as done; whatever it saw was recorded before this. */
    void exit(int slot) {
        sequences.incrementAndGet(slot);
        // Volatile write above, volatile read here; settle() does the reverse: one of the two sees
        // the other, so a settler either sees the new sequence or is notified.
        if (settlers.get() > 0) {
            synchronized (monitor) {
                monitor.notifyAll();
            }
        }
    }

    /** {@return the lock that makes control calls take the control slot one at a time} */
    Object controlLock() {
        return sequences;
    }

    /** Records a fatal error; the first is kept, except that BROKEN_PIPE gives way to a more telling kind. */
    void record(ChannelFailures.Failure seen) {
        synchronized (this) {
            ChannelFailures.Failure current = failure;
            if (current == null || (current.kind() == ChannelFailures.Kind.BROKEN_PIPE
                    && seen.kind() != ChannelFailures.Kind.BROKEN_PIPE)) {
                failure = seen;
            }
        }
    }

    /** {@return the remembered error, or null} Does not wait for calls under way. */
    ChannelFailures.Failure get() {
        return failure;
    }

    /**
     * Waits until every call that was under way when this is called has recorded what it saw,
     * then returns the remembered error, or null. The caller must have left its own slot.
     *
     * @param deadline a {@link System#nanoTime()} value, or {@code Deadline.NONE}
     * @throws SocketTimeoutException the deadline passed first
     * @throws InterruptedIOException the thread was interrupted (its status stays set)
     */
    ChannelFailures.Failure settle(long deadline, String operation) throws InterruptedIOException {
        long[] snapshot = new long[SLOTS];
        for (int i = 0; i < SLOTS; i++) {
            snapshot[i] = sequences.get(i);
        }
        settlers.incrementAndGet();
        try {
            for (int i = 0; i < SLOTS; i++) {
                if ((snapshot[i] & 1) == 0) {
                    continue;
                }
                synchronized (monitor) {
                    while (sequences.get(i) == snapshot[i]) {
                        long remaining = deadline == dev.tcpscope.internal.poll.Deadline.NONE
                                ? Long.MAX_VALUE : deadline - System.nanoTime();
                        if (remaining <= 0) {
                            throw new SocketTimeoutException(operation + " timed out while a call on another"
                                    + " thread was under way that may have seen an error");
                        }
                        try {
                            TimeUnit.NANOSECONDS.timedWait(monitor, remaining);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new InterruptedIOException(operation + " interrupted");
                        }
                    }
                }
            }
        } finally {
            settlers.decrementAndGet();
        }
        return failure;
    }
}
