package dev.tcpscope.internal.portable;

import dev.tcpscope.internal.poll.Deadline;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Deadlines of blocking channel writes. A JDK channel write in blocking mode has no timeout, and
 * the only way to stop one is to close the channel; so a write with a deadline arms a timer, and
 * if the write is still under way when it fires, the timer aborts the connection (RST, SO_LINGER
 * being {1, 0}). One shared daemon thread runs the timers; it inherits nothing from the thread
 * that happened to start it (no inheritable thread locals) and only closes channels.
 */
final class WriteDeadlines {

    private static final ScheduledThreadPoolExecutor TIMER;

    static {
        TIMER = new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().daemon().name("tcpscope-write-deadlines")
                .inheritInheritableThreadLocals(false).factory());
        TIMER.setRemoveOnCancelPolicy(true); // a write that completes in time leaves nothing behind
    }

    private WriteDeadlines() {}

    /** The deadline of the one write in progress on a socket (used under the socket's write lock). */
    static final class Watch {

        private final PortableSocket socket;
        private Armed armed; // under the write lock

        Watch(PortableSocket socket) {
            this.socket = socket;
        }

        /** Starts watching a write that must end by {@code deadline} (nothing for {@link Deadline#NONE}). */
        void arm(long deadline) {
            if (deadline == Deadline.NONE) {
                return;
            }
            Armed a = new Armed(); // one per write: a late timer of an earlier write touches only its own
            a.timer = TIMER.schedule(() -> a.fire(socket), Deadline.remainingNanos(deadline), TimeUnit.NANOSECONDS);
            armed = a;
        }

        /** Stops watching; {@return whether the timer fired, i.e. aborted the connection} */
        boolean disarm() {
            Armed a = armed;
            if (a == null) {
                return false;
            }
            armed = null;
            if (a.state.compareAndSet(Armed.WAITING, Armed.DISARMED)) {
                a.timer.cancel(false);
                return false;
            }
            return true;
        }
    }

    /** One armed timer: whichever of the write's end and the timer comes first decides. */
    private static final class Armed {
        static final int WAITING = 0, DISARMED = 1, FIRED = 2;
        final AtomicInteger state = new AtomicInteger(WAITING);
        volatile ScheduledFuture<?> timer;

        void fire(PortableSocket socket) {
            if (state.compareAndSet(WAITING, FIRED)) {
                socket.close("aborted: a write did not complete by its deadline (the portable transport stops a"
                        + " blocked write by closing the channel)", null);
            }
        }
    }
}
