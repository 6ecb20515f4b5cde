package dev.tcpscope.internal.poll;

import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Deadlines, as the layers below the API pass them: a {@link System#nanoTime()} value computed
 * once from the caller's {@link Duration} and passed down unchanged (the JDK passes nanos, Go's
 * {@code pollDesc} keeps one per direction), never re-derived from a duration in each layer.
 * {@link #NONE} means "no deadline". A plain {@code long}, so that a blocking call allocates
 * nothing for its deadline.
 */
public final class Deadline {

    /** "Wait without a deadline." No deadline computed by {@link #after} ever equals it. */
    public static final long NONE = Long.MIN_VALUE;

    private Deadline() {}

    /**
     * {@return the deadline {@code timeout} from now, or {@link #NONE} for a null timeout or one
     * too long to represent}
     *
     * @throws IllegalArgumentException if {@code timeout} is zero or negative
     */
    public static long after(Duration timeout) {
        if (timeout == null) {
            return NONE;
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        long nanos;
        try {
            nanos = timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            return NONE;
        }
        long deadline = System.nanoTime() + nanos;
        return deadline == NONE ? deadline + 1 : deadline;
    }

    /** {@return nanoseconds left until {@code deadline}, at most 0 once it passed; Long.MAX_VALUE for NONE} */
    public static long remainingNanos(long deadline) {
        return deadline == NONE ? Long.MAX_VALUE : Math.max(0, deadline - System.nanoTime());
    }

    /**
     * Takes {@code lock}, at once if it is free; otherwise waits, giving up at {@code deadline} or
     * on interrupt the way the operation waiting for it would: {@link SocketTimeoutException}, or {@link InterruptedIOException}
     * with the interrupt status set again.
     */
    public static void lock(ReentrantLock lock, long deadline, String operation) throws InterruptedIOException {
        if (lock.tryLock()) {
            // Free: the deadline and an interrupt matter only while waiting for another holder.
            // (An operation cancelled before it starts then reports what it finds, e.g. that the
            // connection was closed, not a wait "for another read" that never happened.)
            return;
        }
        try {
            if (deadline == NONE) {
                lock.lockInterruptibly();
            } else if (!lock.tryLock(remainingNanos(deadline), TimeUnit.NANOSECONDS)) {
                throw new SocketTimeoutException(operation + " timed out waiting for another " + operation);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(operation + " interrupted while waiting for another " + operation);
        }
    }
}
