package dev.tcpscope.internal.poll;

import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.Parked;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Deadline}: a duration turned into a {@code nanoTime} value once, and the lock wait that
 * honours it. No timing is asserted: only the order of values and which exception ends a wait.
 *
 * <p>Checked by PIT (issue 11): every mutant of {@code Deadline} but two is killed by these tests;
 * the two are in the README's list.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DeadlineTest {

    @Test
    void aTimeoutBecomesADeadlineInTheFuture() {
        long before = System.nanoTime();
        long deadline = Deadline.after(Duration.ofSeconds(60));
        assertTrue(deadline - before >= Duration.ofSeconds(60).toNanos());
        long remaining = Deadline.remainingNanos(deadline);
        assertTrue(remaining > 0 && remaining <= Duration.ofSeconds(60).toNanos(), "remaining " + remaining);
    }

    @Test
    void noTimeoutOrOneTooLongIsNoDeadline() {
        assertEquals(Deadline.NONE, Deadline.after(null));
        assertEquals(Deadline.NONE, Deadline.after(ChronoUnit.FOREVER.getDuration()));
        assertEquals(Long.MAX_VALUE, Deadline.remainingNanos(Deadline.NONE));
        assertNotEquals(Deadline.NONE, Deadline.after(Duration.ofNanos(1)));
    }

    @Test
    void zeroAndNegativeTimeoutsAreRefused() {
        assertThrowsExactly(IllegalArgumentException.class, () -> Deadline.after(Duration.ZERO));
        assertThrowsExactly(IllegalArgumentException.class, () -> Deadline.after(Duration.ofMillis(-1)));
    }

    @Test
    void aPassedDeadlineHasNothingLeft() {
        assertEquals(0, Deadline.remainingNanos(System.nanoTime() - 1));
    }

    @Test
    void aFreeLockIsTakenAtOnce() throws Exception {
        ReentrantLock lock = new ReentrantLock();
        Deadline.lock(lock, System.nanoTime() - 1, "read"); // even with the deadline passed
        assertTrue(lock.isHeldByCurrentThread());
        lock.unlock();
        Deadline.lock(lock, Deadline.NONE, "read");
        assertTrue(lock.isHeldByCurrentThread());
        lock.unlock();
        // Even by an interrupted thread: it was not waiting for anyone (the operation itself then
        // reports the interrupt if it has to wait, or what it found, e.g. a closed connection).
        Thread.currentThread().interrupt();
        try {
            Deadline.lock(lock, Deadline.NONE, "read");
            assertTrue(lock.isHeldByCurrentThread());
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status is kept");
        } finally {
            Thread.interrupted();
            lock.unlock();
        }
    }

    @Test
    void aLockWaitLastsUntilTheHolderLetsGo() throws Exception {
        ReentrantLock lock = new ReentrantLock();
        CountDownLatch letGo = new CountDownLatch(1);
        Forked<Void> holder = Forked.start(Forked.Kind.PLATFORM, "holder", () -> {
            lock.lock();
            try {
                letGo.await();
            } finally {
                lock.unlock();
            }
            return null;
        });
        Await.until("the holder has the lock", lock::isLocked);
        Forked<Void> waiter = Forked.start(Forked.Kind.VIRTUAL, "waiter", () -> {
            Deadline.lock(lock, Deadline.after(Duration.ofSeconds(60)), "write");
            lock.unlock();
            return null;
        });
        Parked.awaitOnLock(waiter.thread());
        letGo.countDown();
        waiter.await().assertReturned();
        holder.await().assertReturned();
    }

    @Test
    void aLockWaitEndsAtTheDeadlineOrOnInterrupt() throws Exception {
        ReentrantLock lock = new ReentrantLock();
        lock.lock();
        try {
            Forked<Void> timed = Forked.start(Forked.Kind.VIRTUAL, "timed", () -> {
                Deadline.lock(lock, Deadline.after(Duration.ofMillis(100)), "write");
                return null;
            });
            var timeout = timed.await().assertThrowsExactly(SocketTimeoutException.class);
            assertEquals("write timed out waiting for another write", timeout.getMessage());

            Forked<Void> untimed = Forked.start(Forked.Kind.VIRTUAL, "untimed", () -> {
                Deadline.lock(lock, Deadline.NONE, "read");
                return null;
            });
            Parked.awaitOnLock(untimed.thread());
            untimed.thread().interrupt();
            Forked.Outcome<Void> outcome = untimed.await();
            var interrupted = outcome.assertThrowsExactly(InterruptedIOException.class);
            assertEquals("read interrupted while waiting for another read", interrupted.getMessage());
            assertTrue(outcome.interruptedAtEnd(), "the interrupt status is set again");
        } finally {
            lock.unlock();
        }
    }
}
