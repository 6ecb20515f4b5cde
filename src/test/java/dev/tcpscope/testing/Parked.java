package dev.tcpscope.testing;

import dev.tcpscope.internal.poll.Readiness;
import org.opentest4j.AssertionFailedError;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.locks.AbstractQueuedSynchronizer;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Waits until a thread is seen parked, so that a wake-up test closes, interrupts or sends data
 * only once the operation under test is really blocked, never after a guessed sleep.
 *
 * <p>A thread counts as parked when {@link LockSupport#getBlocker(Thread)} is the expected kind
 * of object and its state is WAITING or TIMED_WAITING (for a virtual thread: unmounted and
 * parked). Threads blocked in the socket layer's poller have a {@link Readiness} as blocker;
 * threads queued for one of the layer's per-direction locks have the lock's synchronizer.
 *
 * <p>If the thread ends before it is seen parked (the operation returned or threw instead of
 * blocking) the wait fails at once, naming what the thread did.
 *
 * <p>A thread that parks without a blocker (e.g. a scope's owner in {@code join()}) is recognised
 * by where it waits instead: {@link #awaitIn}.
 */
public final class Parked {

    /** How long to wait for a thread to park; generous for a loaded 2-core machine. */
    public static final Duration TIMEOUT = Await.TIMEOUT;

    private Parked() {}

    /**
     * Waits until {@code thread} is blocked waiting for readiness: parked in the native transport's
     * poller (a {@link Readiness} blocker), or, on the portable transport, inside the JDK's own
     * channel wait (a virtual thread parked in {@code sun.nio.ch}'s poller, or a platform thread in
     * the native {@code poll} of {@code sun.nio.ch.Net}, where its state is RUNNABLE).
     *
     * @return the {@link Readiness} it waits on; {@code null} on the portable transport
     */
    public static Readiness await(Thread thread) {
        if (!TransportUnderTest.portable()) {
            return (Readiness) await(thread, blocker -> blocker instanceof Readiness, "a Readiness (waiting in the poller)");
        }
        Await.until(() -> thread + " was not seen waiting in the JDK's channel poll within " + TIMEOUT.toSeconds()
                + " s; state " + thread.getState() + ", stack:\n" + stack(thread), TIMEOUT, () -> {
            if (thread.getState() == Thread.State.TERMINATED) {
                throw new AssertionFailedError(thread + " ended before it was seen blocked in a channel"
                        + Forked.describeEnding(thread));
            }
            StackTraceElement[] stack = thread.getStackTrace();
            if (thread.isVirtual()) { // parked in the JDK's poller
                return Arrays.stream(stack).anyMatch(e -> e.getClassName().equals("sun.nio.ch.SelChImpl")
                        && e.getMethodName().equals("park"))
                        && Arrays.stream(stack).limit(12).anyMatch(e -> e.getClassName().equals("sun.nio.ch.Poller"));
            }
            // A platform thread blocks in the kernel: in poll (timed reads) or in a blocking read/write.
            return stack.length > 0 && (stack[0].getClassName().equals("sun.nio.ch.Net") && stack[0].getMethodName().equals("poll")
                    || stack[0].getClassName().equals("sun.nio.ch.SocketDispatcher")
                    && (stack[0].getMethodName().equals("read0") || stack[0].getMethodName().equals("write0")
                    || stack[0].getMethodName().equals("writev0"))); // a gathering write
        });
        return null;
    }

    /**
     * Waits until {@code thread} is parked waiting for a lock (e.g. a second reader queued behind
     * the first on a socket's read lock).
     *
     * @return the lock's synchronizer the thread is parked on
     */
    public static Object awaitOnLock(Thread thread) {
        return await(thread, blocker -> blocker instanceof AbstractQueuedSynchronizer || blocker instanceof Lock,
                "a lock");
    }

    /**
     * Waits until {@code thread} is parked with a blocker that satisfies {@code expectedBlocker}.
     *
     * @param description of the expected blocker, for the failure message
     * @return the blocker
     * @throws AssertionFailedError if the thread ends first, or is not seen parked in time
     */
    public static Object await(Thread thread, Predicate<Object> expectedBlocker, String description) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        for (int round = 0; ; round++) {
            Object blocker = LockSupport.getBlocker(thread);
            Thread.State state = thread.getState();
            if (blocker != null && expectedBlocker.test(blocker)
                    && (state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING)) {
                return blocker;
            }
            if (state == Thread.State.TERMINATED) {
                throw new AssertionFailedError(thread + " ended before it was seen parked on " + description
                        + Forked.describeEnding(thread));
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionFailedError(thread + " was not seen parked on " + description + " within "
                        + TIMEOUT.toSeconds() + " s; state " + state + ", blocker " + blocker + ", stack:\n"
                        + stack(thread));
            }
            Await.pause(round);
        }
    }

    /**
     * Waits until {@code thread} is waiting (WAITING or TIMED_WAITING) inside a method whose
     * class and method name contain {@code frame}, e.g. {@code "ThreadFlock.awaitAll"}: an owner
     * in {@code join()}, which parks without a blocker object.
     */
    public static void awaitIn(Thread thread, String frame) {
        Await.until(() -> thread + " was not seen waiting in " + frame + " within " + TIMEOUT.toSeconds()
                + " s; state " + thread.getState() + ", stack:\n" + stack(thread), TIMEOUT, () -> {
            Thread.State state = thread.getState();
            return (state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING)
                    && Arrays.stream(thread.getStackTrace())
                    .anyMatch(e -> (e.getClassName() + "." + e.getMethodName()).contains(frame));
        });
    }

    static String stack(Thread thread) {
        return Arrays.stream(thread.getStackTrace()).map(e -> "\tat " + e).collect(Collectors.joining("\n"));
    }
}
