package dev.tcpscope.internal.poll;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.internal.os.Syscalls;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A socket descriptor with a reference count, a closed flag and its readiness: the piece that
 * makes a stale descriptor number harmless (Go's {@code fdMutex} plus {@code pollDesc}).
 *
 * <p>Every system call on the number runs between {@link #acquire()} and {@link #release()}.
 * {@link #close} only marks the descriptor closed and wakes parked waiters; whoever drops the
 * last reference, the closer or the last woken user, deregisters it from the poller and calls
 * close(2), exactly once. So the number is never released to the OS while a thread can still
 * pass it to a call: no byte can go to, or come from, a newer connection that reuses it.
 *
 * <p>A descriptor joins the poller's epoll set when a thread first waits on it, for the direction
 * it waits for ({@link #ensureInterest}), and leaves it just before close(2).
 *
 * <p>State word: bit 62 = closed, bit 61 = destroyed (close(2) done or under way), low bits =
 * references. Destruction is exception-safe: once a descriptor is marked destroyed, close(2) runs
 * even if deregistering from the poller throws.
 */
public final class SocketDescriptor {

    private static final long CLOSED = 1L << 62;
    private static final long DESTROYED = 1L << 61;
    private static final long REFERENCES = DESTROYED - 1;

    private static final AtomicLong OPENED = new AtomicLong();
    private static final AtomicLong RELEASED = new AtomicLong();

    private final int fd;
    private final Syscalls syscalls;
    private final Poller poller;
    private final AtomicLong state = new AtomicLong();
    private final AtomicReference<Ending> ending = new AtomicReference<>();
    private volatile long pollKey = Poller.UNREGISTERED;
    private volatile int interest; // epoll events registered so far (0: not registered); changed under interestLock
    private final Object interestLock = new Object();
    // An edge told of urgent data, the peer's FIN, an error or a hang-up: a short read may then
    // leave something to read with no further edge, so reads never again skip their first recv
    // (see noteInputDrained).
    private volatile boolean inputIrregular;

    private record Ending(String description, Throwable reason) {}

    final Readiness readable = new Readiness("readable");
    final Readiness writable = new Readiness("writable");

    private SocketDescriptor(int fd, Syscalls syscalls, Poller poller) {
        this.fd = fd;
        this.syscalls = syscalls;
        this.poller = poller;
    }

    /**
     * Takes ownership of a freshly created (or accepted) non-blocking socket. It is not yet
     * registered with the poller: that happens when a thread first has to wait on it (see
     * {@link #awaitReadable}), and only for the direction it waits for.
     */
    public static SocketDescriptor adopt(int fd, Syscalls syscalls, Poller poller) {
        OPENED.incrementAndGet();
        return new SocketDescriptor(fd, syscalls, poller);
    }

    /** {@return sockets adopted since the JVM started (accounting for tests)} */
    public static long openedCount() {
        return OPENED.get();
    }

    /** {@return sockets whose close(2) has been called since the JVM started} */
    public static long releasedCount() {
        return RELEASED.get();
    }

    /**
     * Takes a reference for one system call or one blocking operation.
     *
     * @return the descriptor number, valid until the matching {@link #release()}
     * @throws ConnectionClosedException if the descriptor was closed
     */
    public int acquire() throws ConnectionClosedException {
        while (true) {
            long s = state.get();
            if ((s & CLOSED) != 0) {
                throw closedException("use");
            }
            if (state.compareAndSet(s, s + 1)) {
                return fd;
            }
        }
    }

    /** Gives back a reference; the last one after {@link #close} performs close(2). */
    public void release() {
        while (true) {
            long s = state.get();
            if ((s & REFERENCES) == 0) {
                // Refused before touching the word: a decrement would borrow into the flags and
                // leave a descriptor that reads as closed and destroyed, never closed.
                throw new IllegalStateException("release() without acquire() on fd " + fd);
            }
            if (state.compareAndSet(s, s - 1)) {
                if (s - 1 == CLOSED) {
                    destroyIfLast();
                }
                return;
            }
        }
    }

    /**
     * Marks the descriptor closed and wakes any thread parked on it; close(2) follows as soon as
     * no thread holds a reference. Idempotent: only the first call has an effect.
     *
     * @param description how it ended, e.g. "aborted", used in exception messages
     * @param reason      why, or {@code null}; becomes the cause of later exceptions
     * @return whether this call closed it
     */
    public boolean close(String description, Throwable reason) {
        while (true) {
            long s = state.get();
            if ((s & CLOSED) != 0) {
                return false;
            }
            // Set before the flag, so whoever sees the flag finds the reason; the first closer wins.
            ending.compareAndSet(null, new Ending(description, reason));
            if (state.compareAndSet(s, s | CLOSED)) {
                break;
            }
        }
        wakeWaiters();
        destroyIfLast();
        return true;
    }

    /**
     * Deregisters and closes the number once the last reference is gone. Marked DESTROYED first,
     * so that it happens once; then close(2) runs whatever deregistering throws (an Error from
     * the downcall, say), since a descriptor marked destroyed is never closed by anyone else.
     */
    private void destroyIfLast() {
        if (!state.compareAndSet(CLOSED, CLOSED | DESTROYED)) {
            return; // references remain, or someone else is destroying it
        }
        try {
            long key = pollKey;
            if (key != Poller.UNREGISTERED) {
                poller.deregister(fd, key);
            }
        } finally {
            try {
                // Never retried, whatever it returns: after close(2) the number may be reused at once.
                syscalls.close(fd);
            } finally {
                RELEASED.incrementAndGet();
            }
        }
    }

    /**
     * Unparks the threads waiting on either direction so that they look at the flags again: the
     * closed flag, or the poller's failure. The caller has set the flag it wakes them for.
     */
    void wakeWaiters() {
        readable.wake();
        writable.wake();
    }

    /** {@return the poller this descriptor is registered with} */
    Poller poller() {
        return poller;
    }

    /** {@return whether {@link #close} has been called} */
    public boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    /** {@return whether close(2) has been called on the number} */
    public boolean isReleased() {
        return (state.get() & DESTROYED) != 0;
    }

    /** Throws if the descriptor is closed, or its poller failed: a wait could never end well. */
    void throwIfUnusable(String operation) throws IOException {
        if (isClosed()) {
            throw closedException(operation);
        }
        poller.throwIfFailed(operation);
    }

    /** {@return whether a waiter must not park: the descriptor is closed or its poller failed} */
    boolean isUnusable() {
        return isClosed() || poller.hasFailed();
    }

    /** {@return the exception for an operation attempted on, or woken by, the closed descriptor} */
    public ConnectionClosedException closedException(String operation) {
        Ending e = ending.get();
        return e == null
                ? new ConnectionClosedException(operation + ": connection closed", null)
                : new ConnectionClosedException(operation + ": connection " + e.description(), e.reason());
    }

    /**
     * Parks until readable, closed, interrupted or {@code deadline}; see {@link Readiness}. The
     * caller holds a reference ({@link #acquire()}), as for any call on the number.
     */
    public void awaitReadable(long deadline, String operation) throws IOException {
        ensureInterest(Poller.READ_INTEREST, operation);
        readable.await(this, deadline, operation);
    }

    /** Parks until writable, closed, interrupted or {@code deadline}; see {@link #awaitReadable}. */
    public void awaitWritable(long deadline, String operation) throws IOException {
        ensureInterest(Poller.WRITE_INTEREST, operation);
        writable.await(this, deadline, operation);
    }

    /**
     * Called by the reader, holding the read lock, right after a recv(2) that returned fewer
     * bytes than it asked for (and more than none): the receive queue was empty when it
     * returned. Until the next readable edge, the next read may then wait for that edge before
     * its recv, which would answer EAGAIN ({@link #mayWaitBeforeRecv()}). Sound because every
     * arrival after that recv (bytes, the peer's FIN, a reset) wakes epoll and its edge replaces
     * the mark; a descriptor not yet registered for input has no edge on its way, so its reads
     * make their recv first whatever the mark says. Not once an edge told of the FIN, an error or
     * a hang-up: those leave the socket readable with no edge to come, and the next recv must
     * see them (a short read of the last bytes before a FIN, say). Nor once an edge told of TCP
     * urgent data (EPOLLPRI): recv stops at the urgent mark, short, with the bytes after it
     * already queued and no edge to come for them (Linux's tcp_recvmsg). A short read is proof
     * of an empty queue only without these; a recv interrupted by a signal also stops short, but
     * only with the queue empty (data still in the socket's backlog is queued as the call returns,
     * and wakes epoll).
     */
    public void noteInputDrained() {
        if (!inputIrregular) {
            readable.markDrained();
        }
    }

    /** {@return whether the last recv emptied the queue and no readable edge has come since} */
    public boolean isInputDrained() {
        return readable.isDrained();
    }

    /**
     * {@return whether a read may wait for the next readable edge before its first recv}: the
     * input is drained ({@link #isInputDrained()}), the descriptor is registered for input (so
     * bytes that came since have an edge on its way; on a socket not yet registered they would
     * only be reported by the registration, and a recv finds them sooner), and it is neither
     * closed nor on a failed poller (the recv, not the wait, then says what happened, as before).
     * The caller also skips the wait when its thread is interrupted or its deadline has passed:
     * such a read still gets the bytes already queued, as it always did.
     */
    public boolean mayWaitBeforeRecv() {
        return readable.isDrained() && (interest & Poller.READ_INTEREST) == Poller.READ_INTEREST && !isUnusable();
    }

    /**
     * Registers the descriptor for both directions now, before the caller looks at the socket's
     * state, so that every later change of it is reported. For the graceful ending: once the
     * output is shut down, Linux reports the socket writable at every wake-up, so a thread
     * waiting for writable ({@link #awaitWritable}) wakes for any change — input, the peer's FIN,
     * the acknowledgement of our FIN, a reset — provided the input's wake-ups pass epoll's
     * interest filter too. The caller holds a reference.
     */
    public void watchBothDirections(String operation) throws IOException {
        ensureInterest(Poller.READ_INTEREST | Poller.WRITE_INTEREST, operation);
    }

    /**
     * Registers the descriptor with the poller for {@code events} before its first wait for
     * them, rather than for everything from its creation. Why: an edge-triggered registration
     * is woken by every state change of the socket (connect completing, our own shutdown, the
     * acknowledgement of our FIN), and, with EPOLLOUT in its interest, by the registration of a
     * writable socket itself; a socket that never waits (a short exchange on loopback) then cost
     * the poller a wake-up nobody waited for. Adding interest later loses no edge: epoll_ctl ADD
     * and MOD look at the socket's current readiness and queue an event if it is already ready,
     * and the waiter has not published itself yet, so the event leaves READY for it to consume.
     *
     * <p>The caller holds a reference, so the descriptor cannot be destroyed (deregistered and
     * closed) meanwhile; the lock orders a reader and a writer registering at the same time.
     */
    void ensureInterest(int events, String operation) throws IOException {
        if ((interest & events) == events) {
            return;
        }
        synchronized (interestLock) {
            int current = interest;
            if ((current & events) == events) {
                return;
            }
            // No closed check: registering a closed descriptor is harmless (its destruction
            // deregisters it) and the wait that follows sees the flag.
            poller.addInterest(this, fd, current, current | events);
            interest = current | events;
        }
    }

    void setPollKey(long key) {
        pollKey = key;
    }

    /** {@return the key of its epoll registration: slot index and generation} */
    long pollKey() {
        return pollKey;
    }

    boolean pollKeyMatches(long key) {
        return pollKey == key;
    }

    /** Called by a polling thread with the events of one edge; {@return whether it unparked a virtual thread} */
    boolean onEvents(int events) {
        boolean virtualWoken = false;
        if ((events & Poller.READ_EVENTS) != 0) {
            if ((events & Poller.INPUT_IRREGULAR_EVENTS) != 0) {
                inputIrregular = true; // before the signal: the reader that consumes it sees the flag
            }
            virtualWoken = readable.signal();
        }
        if ((events & Poller.WRITE_EVENTS) != 0) {
            virtualWoken |= writable.signal();
        }
        return virtualWoken;
    }

    @Override
    public String toString() {
        return "SocketDescriptor[fd=" + fd + (isClosed() ? ", closed" : "") + "]";
    }
}
