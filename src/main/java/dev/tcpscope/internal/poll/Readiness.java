package dev.tcpscope.internal.poll;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One direction (readable or writable) of a descriptor's readiness, and the one thread that may
 * be parked waiting for it: the state machine of Go's {@code pollDesc.rg/wg}.
 *
 * <p>The state is {@code null} (nothing known), {@link #READY} (an edge arrived that nobody has
 * consumed yet), {@link #DRAINED} (the reader's last recv emptied the queue and no edge has come
 * since, so a recv now would answer EAGAIN) or the parked {@link Thread}. The poller calls
 * {@link #signal()} on every edge; a waiter consumes READY and retries its system call, or
 * publishes itself and parks. Because the waiter re-checks READY, the closed flag and the
 * poller's failure after publishing itself, and the closer (or the failing poller) sets its flag
 * before it calls {@link #wake()}, no wake-up is ever lost.
 *
 * <p>A waiter withdraws itself in a {@code finally}, so that parking that throws (an Error in a
 * virtual thread's yield, say) never leaves a thread published: the next waiter could then
 * neither publish itself nor park, and would spin.
 *
 * <p>At most one thread waits per direction: the socket layer holds a per-direction lock.
 */
public final class Readiness {

    private static final Object READY = new Object();

    /**
     * The last read returned fewer bytes than it asked for, so recv(2) found the receive queue
     * empty, and no edge has arrived since. Every arrival after that recv wakes epoll, so its
     * edge replaces DRAINED with READY: while DRAINED holds, a read can park at once instead of
     * first calling recv for an EAGAIN (Netty's rule after a short read). Set only by the reader
     * ({@link #markDrained}), under the socket's read lock, from {@code null}: an edge that came
     * during the recv has left READY, and the next read calls recv.
     */
    private static final Object DRAINED = new Object();

    /** How a waiter parks: {@link LockSupport}, except in the test that makes parking throw. */
    @FunctionalInterface
    interface Parking {
        /** {@code nanos} value of a wait without a deadline. */
        long UNTIMED = -1;

        /**
         * The real thing: LockSupport, with the Readiness as blocker (tests look for it); a
         * virtual thread's timed wait through the {@link DeadlineTimer}, whose registration
         * wakes no thread where the JDK's timed park wakes its delay thread twice.
         */
        Parking LOCK_SUPPORT = (blocker, nanos) -> {
            if (nanos == UNTIMED) {
                LockSupport.park(blocker);
            } else if (Thread.currentThread().isVirtual() && DeadlineTimer.shared() != null) {
                DeadlineTimer.shared().park(blocker, nanos);
            } else {
                LockSupport.parkNanos(blocker, nanos);
            }
        };

        /** Parks the current thread for at most {@code nanos}, or without limit if {@link #UNTIMED}. */
        void park(Readiness blocker, long nanos);
    }

    private final AtomicReference<Object> state = new AtomicReference<>();
    private final String direction;
    private final Parking parking;

    Readiness(String direction) {
        this(direction, Parking.LOCK_SUPPORT);
    }

    Readiness(String direction, Parking parking) {
        this.direction = direction;
        this.parking = parking;
    }

    /**
     * Called by the poller for every readiness edge: marks READY and unparks any waiter.
     *
     * @return whether the waiter it unparked is a virtual thread (the poller then keeps polling
     *         from a virtual thread: see {@code PollingThreads})
     */
    boolean signal() {
        Object previous = state.getAndSet(READY);
        if (previous instanceof Thread waiter) {
            LockSupport.unpark(waiter);
            return waiter.isVirtual();
        }
        return false;
    }

    /** Called after the descriptor was marked closed or its poller failed: wakes the waiter so it sees the flag. */
    void wake() {
        if (state.get() instanceof Thread waiter) {
            LockSupport.unpark(waiter);
        }
    }

    /** {@return whether an edge arrived that no waiter has consumed yet} */
    boolean hasPendingEdge() {
        return state.get() == READY;
    }

    /** Forgets a pending edge; the next wait parks until a new edge arrives. */
    void clear() {
        state.compareAndSet(READY, null);
    }

    /**
     * Records that the reader's recv just returned fewer bytes than it asked for (the queue is
     * empty), unless an edge arrived since the reader last consumed one; see {@link #DRAINED}.
     * The caller must not call it when an edge has told of urgent data, the peer's FIN, an error
     * or a hang-up: a short read is then no proof of an empty queue, or the socket stays readable
     * without any further edge.
     */
    void markDrained() {
        state.compareAndSet(null, DRAINED);
    }

    /** {@return whether a recv now would find nothing queued: see {@link #DRAINED}} */
    boolean isDrained() {
        return state.get() == DRAINED;
    }

    /**
     * Parks until the next readiness edge, then returns so that the caller retries its call.
     *
     * @param descriptor   the descriptor whose closing ends the wait
     * @param deadline     a {@link System#nanoTime()} value, or {@link Deadline#NONE}
     * @param operation    named in the exceptions, e.g. "read"
     * @throws dev.tcpscope.ConnectionClosedException the descriptor was closed (now or before)
     * @throws PollerFailedException the poller stopped: no readiness will ever be reported
     * @throws InterruptedIOException the thread was interrupted; its interrupt status stays set
     * @throws SocketTimeoutException the deadline passed
     */
    void await(SocketDescriptor descriptor, long deadline, String operation) throws IOException {
        Thread me = Thread.currentThread();
        while (true) {
            descriptor.throwIfUnusable(operation);
            if (me.isInterrupted()) {
                throw new InterruptedIOException(operation + " interrupted");
            }
            Object idle = state.get();
            if (idle == READY) {
                if (state.compareAndSet(READY, null)) {
                    return;
                }
                continue;
            }
            long remaining = 0;
            if (deadline != Deadline.NONE) {
                remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    throw new SocketTimeoutException(operation + " timed out");
                }
            }
            if ((idle != null && idle != DRAINED) || !state.compareAndSet(idle, me)) {
                continue; // an edge arrived meanwhile: consume it above
            }
            try {
                if (!descriptor.isUnusable()) {
                    parking.park(this, deadline == Deadline.NONE ? Parking.UNTIMED : remaining);
                }
            } finally {
                // Woken by an edge (state is READY), a close, the poller's failure, an interrupt,
                // the deadline or spuriously — or parking threw: withdraw if still published.
                state.compareAndSet(me, null);
            }
        }
    }

    @Override
    public String toString() {
        return "Readiness[" + direction + "]";
    }
}
