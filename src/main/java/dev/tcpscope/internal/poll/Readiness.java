package dev.tcpscope.internal.poll;

import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One direction (readable or writable) of a descriptor's readiness, and the one thread that may
 * be parked waiting for it: the state machine of Go's {@code pollDesc.rg/wg}.
 *
 * <p>The state is {@code null} (nothing known), {@link #READY} (an edge arrived that nobody has
 * consumed yet) or the parked {@link Thread}. The poller calls {@link #signal()} on every edge;
 * a waiter consumes READY and retries its system call, or publishes itself and parks. Because
 * the waiter re-checks READY and the closed flag after publishing itself, and the closer sets the
 * flag before it calls {@link #wakeForClose()}, no wake-up is ever lost.
 *
 * <p>At most one thread waits per direction: the socket layer holds a per-direction lock.
 */
public final class Readiness {

    private static final Object READY = new Object();

    private final AtomicReference<Object> state = new AtomicReference<>();
    private final String direction;

    Readiness(String direction) {
        this.direction = direction;
    }

    /** Called by the poller for every readiness edge: marks READY and unparks any waiter. */
    void signal() {
        Object previous = state.getAndSet(READY);
        if (previous instanceof Thread waiter) {
            LockSupport.unpark(waiter);
        }
    }

    /** Called after the descriptor was marked closed: wakes the waiter so it sees the flag. */
    void wakeForClose() {
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
     * Parks until the next readiness edge, then returns so that the caller retries its call.
     *
     * @param descriptor   the descriptor whose closing ends the wait
     * @param deadline     a {@link System#nanoTime()} value, or {@link Deadline#NONE}
     * @param operation    named in the exceptions, e.g. "read"
     * @throws dev.tcpscope.ConnectionClosedException the descriptor was closed (now or before)
     * @throws InterruptedIOException the thread was interrupted; its interrupt status stays set
     * @throws SocketTimeoutException the deadline passed
     */
    void await(SocketDescriptor descriptor, long deadline, String operation)
            throws dev.tcpscope.ConnectionClosedException, InterruptedIOException, SocketTimeoutException {
        Thread me = Thread.currentThread();
        while (true) {
            descriptor.throwIfClosed(operation);
            if (me.isInterrupted()) {
                throw new InterruptedIOException(operation + " interrupted");
            }
            if (state.compareAndSet(READY, null)) {
                return;
            }
            long remaining = 0;
            if (deadline != Deadline.NONE) {
                remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    throw new SocketTimeoutException(operation + " timed out");
                }
            }
            if (!state.compareAndSet(null, me)) {
                continue; // an edge arrived meanwhile: consume it above
            }
            if (!descriptor.isClosed()) {
                if (deadline == Deadline.NONE) {
                    LockSupport.park(this);
                } else {
                    LockSupport.parkNanos(this, remaining);
                }
            }
            // Woken by an edge (state is READY), a close, an interrupt, the deadline or
            // spuriously: withdraw if still published, then look at the state again.
            state.compareAndSet(me, null);
        }
    }

    @Override
    public String toString() {
        return "Readiness[" + direction + "]";
    }
}
