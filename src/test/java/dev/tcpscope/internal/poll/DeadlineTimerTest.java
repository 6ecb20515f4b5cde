package dev.tcpscope.internal.poll;

import dev.tcpscope.testing.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The timer of virtual threads' timed waits ({@link DeadlineTimer}): every waiter is woken once
 * its deadline has passed, whatever order the deadlines arrive in, and a waiter woken early leaves
 * nothing behind. Each waiter here loops until its deadline has passed, as a real one does, so a
 * test ends only if the timer wakes it after that.
 *
 * <p>Checked by breaking the timer on purpose: without the unpark of the timer thread for a
 * deadline earlier than its plan, {@link #anEarlierDeadlineAddedAfterALaterOneWakesTheTimer} waits
 * for the later deadline (an hour) and fails; without the removal of a woken waiter's entry,
 * {@link #aWaiterWokenEarlyLeavesNoEntry} fails (the randomized test does not: its entries expire
 * within 100 ms and the timer takes them); with the timer not unparking expired waiters, every
 * test but that one fails; with two entries of the same deadline compared equal (no tie-break),
 * {@link #equalDeadlinesAreTwoWaiters} fails (the set kept one); with the idle timer not parking
 * (spinning), {@link #anIdleTimerSleeps} fails.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DeadlineTimerTest {

    private static final long HOUR = Duration.ofHours(1).toNanos();

    /** Starts a virtual thread that waits on {@code timer} until {@code deadline} passes or {@code stop} is set. */
    private static Thread waiter(DeadlineTimer timer, long deadline, AtomicBoolean stop) {
        return Thread.ofVirtual().name("waiter").start(() -> {
            while (!stop.get() && System.nanoTime() - deadline < 0) {
                timer.park(DeadlineTimerTest.class, deadline - System.nanoTime());
            }
        });
    }

    private static void assertEnds(Thread thread, String what) throws InterruptedException {
        assertFalse(!thread.join(Await.TIMEOUT) && thread.isAlive(), what + " did not end within " + Await.TIMEOUT);
    }

    @Test
    void anEarlierDeadlineAddedAfterALaterOneWakesTheTimer() throws Exception {
        DeadlineTimer timer = DeadlineTimer.startNew();
        AtomicBoolean stopLate = new AtomicBoolean();
        Thread late = waiter(timer, System.nanoTime() + HOUR, stopLate);
        // The timer has taken the hour-long deadline as its plan and sleeps on it.
        Await.until("the timer sleeps until the late deadline", () -> timer.waiters() == 1
                && timer.thread().getState() == Thread.State.TIMED_WAITING);

        Thread early = waiter(timer, System.nanoTime() + Duration.ofMillis(20).toNanos(), new AtomicBoolean());
        assertEnds(early, "the waiter with the earlier deadline");

        stopLate.set(true);
        LockSupport.unpark(late);
        assertEnds(late, "the late waiter, unparked");
        Await.until("no entry is left", () -> timer.waiters() == 0);
    }

    @Test
    void aWaiterWokenEarlyLeavesNoEntry() throws Exception {
        DeadlineTimer timer = DeadlineTimer.startNew();
        AtomicBoolean stop = new AtomicBoolean();
        Thread waiter = waiter(timer, System.nanoTime() + HOUR, stop);
        Await.until("the waiter registered", () -> timer.waiters() == 1);

        stop.set(true);
        LockSupport.unpark(waiter);
        assertEnds(waiter, "the waiter, unparked");
        assertEquals(0, timer.waiters(), "entries left behind");
    }

    @Test
    void aDeadlineAlreadyPastEndsTheWaitAtOnce() throws Exception {
        DeadlineTimer timer = DeadlineTimer.startNew();
        Thread waiter = waiter(timer, System.nanoTime() - 1, new AtomicBoolean());
        assertEnds(waiter, "the waiter whose deadline had passed");
        // The loop never parked; park once with a past deadline directly, as Readiness may.
        Thread direct = Thread.ofVirtual().start(() -> timer.park(DeadlineTimerTest.class, -1));
        assertEnds(direct, "a park with a past deadline");
        Await.until("no entry is left", () -> timer.waiters() == 0);
    }

    /**
     * Many waiters with random deadlines (0-100 ms, arriving in any order) on one timer, a random
     * quarter of them unparked early: all end, and no entry is left. The seed is printed; set
     * {@code -Dtcpscope.deadlineTimerSeed=N} to replay one.
     */
    @Test
    void randomDeadlinesAllEnd() throws Exception {
        long seed = Long.getLong("tcpscope.deadlineTimerSeed", System.nanoTime());
        System.out.println("DeadlineTimerTest.randomDeadlinesAllEnd seed " + seed);
        SplittableRandom random = new SplittableRandom(seed);
        DeadlineTimer timer = DeadlineTimer.startNew();
        List<Thread> waiters = new ArrayList<>();
        List<AtomicBoolean> stops = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            AtomicBoolean stop = new AtomicBoolean();
            stops.add(stop);
            waiters.add(waiter(timer, System.nanoTime() + random.nextLong(Duration.ofMillis(100).toNanos()), stop));
            if (random.nextInt(8) == 0) {
                Thread.yield();
            }
        }
        for (int i = 0; i < waiters.size(); i++) {
            if (random.nextInt(4) == 0) {
                stops.get(i).set(true);
                LockSupport.unpark(waiters.get(i));
            }
        }
        for (Thread waiter : waiters) {
            assertEnds(waiter, "a waiter (seed " + seed + ")");
        }
        Await.until("no entry is left (seed " + seed + ")", () -> timer.waiters() == 0);
    }

    /**
     * Two waiters with the same deadline are two entries (the order breaks ties by arrival), and
     * both are woken. The count only means something if it was read before the deadline: a test
     * thread stalled past it (a loaded machine) may find the timer has already taken an entry, so
     * such an attempt is made again with a new deadline.
     */
    @Test
    void equalDeadlinesAreTwoWaiters() throws Exception {
        DeadlineTimer timer = DeadlineTimer.startNew();
        for (int attempt = 1; ; attempt++) {
            long deadline = System.nanoTime() + Duration.ofMillis(50).toNanos();
            Thread first = Thread.ofVirtual().unstarted(() -> { });
            Thread second = Thread.ofVirtual().unstarted(() -> { });
            timer.add(first, deadline);
            timer.add(second, deadline);
            int waiters = timer.waiters();
            boolean readBeforeTheDeadline = System.nanoTime() - deadline < 0; // then the timer took none yet
            Await.until("both entries expire and are taken", () -> timer.waiters() == 0);
            if (readBeforeTheDeadline) {
                assertEquals(2, waiters, "a waiter with the same deadline as another was dropped");
                return;
            }
            assertTrue(attempt < 100, "the count was never read within 50 ms of adding the waiters");
        }
    }

    /** With nobody waiting, the timer thread sleeps (parks without a deadline) rather than spinning. */
    @Test
    void anIdleTimerSleeps() throws Exception {
        DeadlineTimer timer = DeadlineTimer.startNew();
        Thread waiter = waiter(timer, System.nanoTime() + Duration.ofMillis(10).toNanos(), new AtomicBoolean());
        assertEnds(waiter, "the waiter");
        Await.until("the idle timer thread parks without a deadline",
                () -> timer.waiters() == 0 && timer.thread().getState() == Thread.State.WAITING);
    }
}
