package dev.tcpscope.internal.poll;

import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The two threads that take events out of a {@link Poller}'s epoll set: a platform thread that
 * sleeps in epoll_wait while nothing happens, and a virtual thread that takes over while events
 * keep coming (the JDK's master poller and virtual-thread sub-pollers, in one epoll set).
 *
 * <p><b>Why two.</b> A platform thread blocked in epoll_wait costs a kernel wake-up for every
 * idle-to-busy edge, and each virtual thread it unparks is submitted to the scheduler from
 * outside, which wakes a carrier: on a virtual machine where waking a sleeping OS thread is
 * expensive, a round trip paid several of those. A virtual thread that polls with a zero timeout
 * unparks virtual threads onto its own carrier's queue instead, then yields to them, then polls
 * again: while traffic flows, nothing sleeps in the kernel. When its polls have found nothing for
 * {@link #QUIET_NANOS} it hands polling back to the platform thread, which sleeps in epoll_wait
 * until the next event.
 *
 * <p><b>Who polls when.</b> Exactly one of the two owns the epoll set at a time ({@link #handedOff}):
 * the platform thread waits in epoll_wait(-1) only while it owns it (or, when the JVM exits with
 * no socket registered, parks instead: {@link ExitQuiescence}), and hands it to the virtual
 * thread only after a batch that woke at least one virtual thread (a program whose threads are all
 * platform threads keeps today's path, with no virtual thread involved). An edge that arrives
 * while ownership changes stays in the epoll ready list for the next owner's call, since both
 * poll the same set: nothing is lost in the hand-over.
 *
 * <p><b>Handing back costs no wake-up.</b> While it has handed off, the platform thread does not
 * sleep on a lock that the virtual thread would have to signal (a kernel wake-up at every end of
 * a burst, only for the platform thread to go back to sleep in epoll_wait). It sleeps in
 * epoll_wait on a second epoll set, the <em>hand-back set</em>, whose only member is the sockets'
 * epoll set, registered one-shot. The virtual thread hands back by arming that registration
 * (epoll_ctl, no wake-up): the platform thread wakes only when the sockets' set has an event,
 * which is the wake-up it would have paid anyway. An arming that fires when nobody waits on the
 * hand-back set costs one empty return later, never a lost event: the sockets' set is what both
 * threads poll.
 *
 * <p><b>Not after fruitless hand-offs.</b> When the virtual thread's windows keep finding no
 * event (events further apart than {@link #QUIET_NANOS}), the platform thread keeps polling
 * itself for a while: {@link HandOffBackoff}.
 *
 * <p>Either thread ending abnormally fails the poller ({@link Poller#fail}), then wakes the other
 * (a platform thread waiting in the hand-back set notices at its next check), which sees the
 * failure and ends too.
 */
final class PollingThreads {

    /**
     * How long the virtual thread keeps polling without finding an event before it hands polling
     * back: 25 µs. Handing back at the first empty poll (the JDK's rule) flapped on a loopback
     * ping-pong here: the other end's reply is often a few microseconds away, and every hand-back
     * costs the platform thread's sleep and wake-up (2.1-2.6 voluntary context switches per round
     * trip, no better than never handing off); a 25 µs window brought that to 0.1-0.2 and the
     * median from 35 to 20-23 µs. The price is at most 25 µs of polling on one carrier after the
     * last event of a burst. bench/README.md has the measurements.
     */
    static final long QUIET_NANOS = TimeUnit.MICROSECONDS.toNanos(25);

    /** How long the platform thread trusts a virtual thread that has not polled: 1 ms. */
    static final long STARVATION_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private static final long EVENT_SIZE = EpollEventLayout.SELECTED.size();
    private static final long EVENTS_OFFSET = EpollEventLayout.SELECTED.eventsOffset();
    private static final long DATA_OFFSET = EpollEventLayout.SELECTED.dataOffset();
    private static final int MAX_EVENTS = 512;

    private final Poller poller;
    private final Syscalls syscalls;
    private final int epfd;
    private final int handBackFd;           // epoll set whose one member is epfd, one-shot
    private final MemorySegment handBackEvent;
    private final Thread platform;
    private final Thread virtual;
    private volatile boolean handedOff;     // true while the virtual thread owns the epoll set
    private volatile long virtualPolls;     // written by the virtual thread only
    private volatile boolean handOffFoundEvents; // of the last hand-off: written by the virtual thread before it hands back
    private final HandOffBackoff backoff = new HandOffBackoff(); // the platform thread's

    /** @throws IOException the hand-back set could not be made (epoll_create1 or epoll_ctl failed) */
    PollingThreads(Poller poller, Syscalls syscalls, int epfd) throws IOException {
        this.poller = poller;
        this.syscalls = syscalls;
        this.epfd = epfd;
        this.handBackFd = syscalls.epollCreate1(Libc.EPOLL_CLOEXEC());
        if (handBackFd < 0) {
            throw Errno.exception("epoll_create1 (the hand-back set)", -handBackFd, null);
        }
        // Lives as long as the poller, as the epoll sets do (a failed poller leaks them on purpose).
        this.handBackEvent = Arena.global().allocate(EVENT_SIZE, 8);
        handBackEvent.set(ValueLayout.JAVA_INT_UNALIGNED, EVENTS_OFFSET, Libc.EPOLLIN() | Libc.EPOLLONESHOT());
        handBackEvent.set(ValueLayout.JAVA_LONG_UNALIGNED, DATA_OFFSET, 0L);
        // Added armed: the first wait on it may return at once, which costs one empty return.
        int added = syscalls.epollCtl(handBackFd, Libc.EPOLL_CTL_ADD(), epfd, handBackEvent);
        if (added < 0) {
            syscalls.close(handBackFd);
            throw Errno.exception("epoll_ctl(EPOLL_CTL_ADD) of the epoll set to the hand-back set", -added, null);
        }
        this.platform = innocuous(Thread.ofPlatform().daemon().priority(Thread.NORM_PRIORITY)
                .name("tcpscope-poller"), this::runPlatform);
        this.virtual = innocuous(Thread.ofVirtual().name("tcpscope-poller-virtual"), this::runVirtual);
    }

    /**
     * A new thread takes its creator's context class loader (whichever application thread first
     * touched the library) unless, as here, it inherits no thread-locals; said again explicitly so
     * that it does not hang on that rule. The system class loader pins nothing.
     */
    static Thread innocuous(Thread.Builder builder, Runnable task) {
        Thread t = builder.inheritInheritableThreadLocals(false).unstarted(task);
        t.setContextClassLoader(ClassLoader.getSystemClassLoader());
        return t;
    }

    void start() {
        virtual.start();   // parks at once, until the first hand-off
        platform.start();
    }

    /** {@return the platform thread, which sleeps in epoll_wait while the sockets are idle} */
    Thread platformThread() {
        return platform;
    }

    /** {@return the virtual thread, which polls while events keep coming} */
    Thread virtualThread() {
        return virtual;
    }

    private void runPlatform() {
        Throwable cause;
        try {
            platformLoop();
            cause = new AssertionError("the poller loop returned");
        } catch (Throwable t) {
            cause = t;
        }
        poller.fail(cause);
        LockSupport.unpark(virtual);
    }

    private void runVirtual() {
        Throwable cause;
        try {
            virtualLoop();
            return; // ended because the poller failed: the platform thread has reported it
        } catch (Throwable t) {
            cause = t;
        }
        poller.fail(cause);
        // Waiting in the hand-back set, the platform thread sees the failure at its next check
        // (within STARVATION_CHECK_NANOS); the unpark is for a platform thread not yet there.
        LockSupport.unpark(platform);
    }

    /** Sleeps in epoll_wait while it owns the set; returns only when the poller has failed. */
    private void platformLoop() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment events = arena.allocate(EVENT_SIZE * MAX_EVENTS, 8);
            while (!poller.hasFailed()) {
                if (poller.exitQuiescence().idle()) {
                    // The JVM is exiting and no socket is registered: wait in Java, not in native
                    // code, where the exit would wait 300 ms for this thread (ExitQuiescence).
                    Thread.interrupted(); // an interrupt would make every park return at once: a spin
                    LockSupport.park(this);
                    continue;
                }
                int n = poll(epfd, events, -1);
                if (n > 0 && dispatch(events, n) && backoff.shouldHandOff()) {
                    handOff(events);
                    backoff.handOffEnded(handOffFoundEvents);
                }
            }
            throw new IllegalStateException("stopped because the poller failed", poller.failure());
        }
    }

    /**
     * Gives the epoll set to the virtual thread and waits in the hand-back set until it gives it
     * back and an event comes, polling in its place whenever it has not polled for a whole check
     * period (its carriers are busy).
     */
    private void handOff(MemorySegment events) throws IOException {
        handedOff = true;
        LockSupport.unpark(virtual);
        long seen = virtualPolls;
        long checked = System.nanoTime();
        while (handedOff && !poller.hasFailed()) {
            // Returns when the virtual thread has handed back and the sockets' set has an event,
            // after a check period, or at once for an arming that fired earlier (one empty return).
            poll(handBackFd, events, (int) TimeUnit.NANOSECONDS.toMillis(STARVATION_CHECK_NANOS));
            long now = System.nanoTime();
            if (now - checked < STARVATION_CHECK_NANOS) {
                continue;
            }
            long polls = virtualPolls;
            if (polls == seen && handedOff) {
                int n = poll(epfd, events, 0);
                if (n > 0) {
                    dispatch(events, n);
                }
            }
            seen = polls;
            checked = now;
        }
    }

    /** Waits for a hand-off, polls with a zero timeout while it finds events, then hands back. */
    private void virtualLoop() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment events = arena.allocate(EVENT_SIZE * MAX_EVENTS, 8);
            while (true) {
                while (!handedOff) {
                    if (poller.hasFailed()) {
                        return;
                    }
                    LockSupport.park(this);
                }
                long lastEvent = System.nanoTime();
                boolean foundEvents = false;
                while (!poller.hasFailed()) {
                    int n = poll(epfd, events, 0);
                    virtualPolls++;
                    if (n > 0) {
                        foundEvents = true;
                        dispatch(events, n);
                        lastEvent = System.nanoTime();
                    } else if (System.nanoTime() - lastEvent >= QUIET_NANOS) {
                        break;
                    }
                    Thread.yield(); // let the threads just unparked (or any other) run on this carrier first
                }
                // In this order: once handedOff reads false, an arming that fires wakes a platform
                // thread that will poll; armed first, it could wake one that goes back to sleep.
                handOffFoundEvents = foundEvents; // before handedOff: the platform thread reads it after
                handedOff = false;
                armHandBack();
            }
        }
    }

    /** Lets the hand-back set report the sockets' set's next event, once (or at once, if one is ready). */
    private void armHandBack() throws IOException {
        int result = syscalls.epollCtl(handBackFd, Libc.EPOLL_CTL_MOD(), epfd, handBackEvent);
        if (result < 0) {
            // ENOMEM or a broken set: without it the platform thread would serve events only at
            // its check period. Fail-stop, like any other error of the poller's own calls.
            throw Errno.exception("epoll_ctl(EPOLL_CTL_MOD) of the hand-back set", -result, null);
        }
    }

    /** One epoll_wait; retries EINTR; any other error says the poller's own state is broken. */
    private int poll(int set, MemorySegment events, int timeoutMillis) throws IOException {
        while (true) {
            int n = syscalls.epollWait(set, events, MAX_EVENTS, timeoutMillis);
            poller.countWakeup();
            if (n >= 0) {
                return n;
            }
            if (-n != Errno.EINTR) {
                // EBADF, EFAULT or EINVAL (epoll_wait(2)): retrying cannot help.
                throw Errno.exception("epoll_wait", -n, null);
            }
        }
    }

    /** Dispatches {@code n} events; {@return whether any of them unparked a virtual thread} */
    private boolean dispatch(MemorySegment events, int n) {
        boolean virtualWoken = false;
        for (int i = 0; i < n; i++) {
            long offset = i * EVENT_SIZE;
            int ready = events.get(ValueLayout.JAVA_INT_UNALIGNED, offset + EVENTS_OFFSET);
            long key = events.get(ValueLayout.JAVA_LONG_UNALIGNED, offset + DATA_OFFSET);
            virtualWoken |= poller.dispatch(key, ready);
        }
        return virtualWoken;
    }
}
