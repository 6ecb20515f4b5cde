package dev.tcpscope.internal.poll;

import java.lang.invoke.VarHandle;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The timer of virtual threads' timed waits on sockets: one daemon platform thread that unparks
 * each waiter whose deadline has passed.
 *
 * <p><b>Why not {@code LockSupport.parkNanos}.</b> A virtual thread's timed park schedules a task
 * on the JDK scheduler's delay thread and cancels it when woken early, and JDK 25's
 * {@code DelayScheduler} wakes its thread for both (every submission unparks it if it sleeps).
 * Most socket deadlines end early: a finish deadline of 10 s that the peer's FIN beats by
 * milliseconds, a read timeout that data beats. Measured on the graceful ending (bench/README):
 * 1.6-1.8 wake-ups of that thread per connection and 33-41 µs of its CPU, on a machine whose two
 * cores were the lifecycle's bottleneck. Here a waiter adds its deadline to a sorted set and the
 * timer thread is woken only when that deadline is earlier than the one it sleeps until; a
 * waiter woken early removes its entry and wakes nobody (the timer finds the entry gone when it
 * wakes, and sleeps until the next). So a run of waits with the same timeout wakes the timer
 * about once per timeout, not twice per wait.
 *
 * <p>Platform threads keep {@code parkNanos}: the kernel's own timer, no thread in between.
 *
 * <p>An unpark that comes after the waiter was already woken (it removes its entry just after the
 * timer took it) leaves a permit: its next park returns at once. Every park in this library and
 * in the JDK's locks re-checks its condition, as {@code LockSupport} requires.
 */
final class DeadlineTimer {

    /** A waiter and its deadline; ordered by deadline, then by arrival. */
    static final class Entry implements Comparable<Entry> {
        final long deadline;
        final long arrival;
        final Thread waiter;

        private Entry(long deadline, long arrival, Thread waiter) {
            this.deadline = deadline;
            this.arrival = arrival;
            this.waiter = waiter;
        }

        @Override
        public int compareTo(Entry other) {
            long difference = deadline - other.deadline; // System.nanoTime() values: compare by difference
            if (difference != 0) {
                return difference < 0 ? -1 : 1;
            }
            return Long.compare(arrival, other.arrival);
        }
    }

    /**
     * The longest wait one entry stands for: 2^62 ns (146 years). Entries are ordered by the
     * difference of their deadlines, which must stay within 2^63 ns of each other; a longer
     * timeout (a Duration of Long.MAX_VALUE ns is accepted) is a wait that ends earlier and
     * parks again, which every caller's loop does.
     */
    static final long LONGEST_WAIT_NANOS = 1L << 62;

    private static final class Holder {
        static final DeadlineTimer SHARED = startOrNull();
    }

    private final ConcurrentSkipListSet<Entry> entries = new ConcurrentSkipListSet<>();
    private final AtomicLong arrivals = new AtomicLong();
    private volatile Entry plannedWake; // the entry the timer sleeps until; null: until unparked
    private final Thread thread;

    private DeadlineTimer() {
        // Innocuous, as the poller's threads: no inherited thread-locals, the system class loader.
        thread = PollingThreads.innocuous(Thread.ofPlatform().daemon().name("tcpscope-deadlines"), this::run);
    }

    private static DeadlineTimer start() {
        DeadlineTimer timer = new DeadlineTimer();
        timer.thread.start();
        return timer;
    }

    /**
     * {@return the timer shared by every socket, started at its first use; null if its thread
     * could not be started (no memory for a native thread, say): callers then use parkNanos}
     */
    static DeadlineTimer shared() {
        return Holder.SHARED;
    }

    private static DeadlineTimer startOrNull() {
        try {
            return start();
        } catch (OutOfMemoryError | RuntimeException e) {
            return null;
        }
    }

    /** Makes a timer of its own, for tests. */
    static DeadlineTimer startNew() {
        return start();
    }

    /**
     * Parks the current thread until it is unparked or {@code nanos} pass (at most
     * {@link #LONGEST_WAIT_NANOS}), give or take the timer thread's own wake-up. May return
     * spuriously, as {@code LockSupport.park} may.
     */
    void park(Object blocker, long nanos) {
        Entry entry = add(Thread.currentThread(), System.nanoTime() + Math.min(nanos, LONGEST_WAIT_NANOS));
        try {
            LockSupport.park(blocker);
        } finally {
            entries.remove(entry);
        }
    }

    /** Adds a waiter; wakes the timer only if the waiter's deadline is earlier than its plan. */
    Entry add(Thread waiter, long deadline) {
        Entry entry = new Entry(deadline, arrivals.getAndIncrement(), waiter);
        entries.add(entry);
        // After the add: the timer publishes its plan before it looks at the set's first entry
        // again, so either it sees this entry or this read sees the plan it sleeps on.
        Entry planned = plannedWake;
        if (planned == null || deadline - planned.deadline < 0) {
            LockSupport.unpark(thread);
        }
        return entry;
    }

    /** {@return how many waiters are registered (tests)} */
    int waiters() {
        return entries.size();
    }

    /** {@return the timer's thread (tests)} */
    Thread thread() {
        return thread;
    }

    private void run() {
        while (true) {
            try {
                runOnce();
            } catch (Throwable t) {
                // An OutOfMemoryError in the set's bookkeeping, say. The timer must outlive it:
                // without it no virtual thread's wait would end by its deadline. Back off a little
                // so that a persistent failure does not spin.
                plannedWake = null;
                LockSupport.parkNanos(this, 1_000_000);
            }
        }
    }

    /** Unparks the waiters whose deadline passed, then sleeps until the next deadline or an earlier arrival. */
    private void runOnce() {
        Thread.interrupted(); // nobody should interrupt this thread; if someone does, park must not return at once forever
        long now = System.nanoTime();
        Entry first = firstOrNull();
        while (first != null && first.deadline - now <= 0) {
            if (entries.remove(first)) { // false: the waiter woke and left meanwhile
                LockSupport.unpark(first.waiter);
            }
            first = firstOrNull();
        }
        plannedWake = first;
        // A full fence between the plan's store and the look below: the skip list reads its
        // head with plain loads, which a weakly ordered CPU could otherwise move before the store
        // (x86 fences volatile stores anyway). add() is the mirror image: its CAS, then this read.
        VarHandle.fullFence();
        if (firstOrNull() != first) {
            return; // an entry arrived (or left) between the look and the plan: look again
        }
        if (first == null) {
            LockSupport.park(this);
        } else {
            LockSupport.parkNanos(this, first.deadline - now);
        }
    }

    private Entry firstOrNull() {
        try {
            return entries.isEmpty() ? null : entries.first();
        } catch (NoSuchElementException emptiedMeanwhile) {
            return null;
        }
    }
}
