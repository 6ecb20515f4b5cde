package dev.tcpscope.testing;

import org.opentest4j.AssertionFailedError;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Bounded waiting, the one way the test suites wait for what another thread, process or the
 * kernel does: {@link #until} polls a condition, {@link #result} waits for a future.
 *
 * <p>Poll only where there is no event to wait on: a descriptor released by whichever thread
 * drops the last reference, a thread seen parked, bytes seen in a receive queue, a server's
 * counters. It never sleeps a fixed time: it spins briefly, then parks for short, growing
 * intervals (at most 1 ms) and re-checks, so it returns soon after the condition holds. It never
 * asserts on elapsed time; the timeout only keeps a broken build from hanging CI.
 */
public final class Await {

    /** The default bound: generous, since CI machines here have 2 shared cores. */
    public static final Duration TIMEOUT = Duration.ofSeconds(10);

    private static final int SPINS = 100;
    private static final long MAX_PAUSE_NANOS = 1_000_000;

    private Await() {}

    /**
     * Waits up to {@link #TIMEOUT} until {@code condition} holds.
     *
     * @param what described in the failure, e.g. "all sockets released"
     * @throws AssertionFailedError if the condition does not hold in time
     */
    public static void until(String what, BooleanSupplier condition) {
        until(() -> "timed out after " + TIMEOUT.toSeconds() + " s waiting until " + what, TIMEOUT, condition);
    }

    /**
     * Waits up to {@link #TIMEOUT} until {@code condition} holds.
     *
     * @param state described in the failure, as it is when the wait gives up (e.g. a server's
     *              counters)
     * @throws AssertionFailedError if the condition does not hold in time
     */
    public static void until(String what, BooleanSupplier condition, Supplier<?> state) {
        until(() -> "timed out after " + TIMEOUT.toSeconds() + " s waiting until " + what + "; state: " + state.get(),
                TIMEOUT, condition);
    }

    /**
     * Waits up to {@code timeout} until {@code condition} holds.
     *
     * @param failure computes the failure message (evaluated only on timeout, so it may describe
     *                the state at that moment)
     * @throws AssertionFailedError if the condition does not hold in time
     */
    public static void until(Supplier<String> failure, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int round = 0; ; round++) {
            if (condition.getAsBoolean()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionFailedError(failure.get());
            }
            pause(round);
        }
    }

    /**
     * Waits up to {@link #TIMEOUT} for {@code future}, e.g. a peer's read on another thread.
     *
     * @param what named in the failure, e.g. "the peer's read"
     * @return its value
     * @throws AssertionFailedError if it does not complete in time, or completes exceptionally
     *                              (with that exception as the cause)
     */
    public static <T> T result(CompletableFuture<T> future, String what) {
        try {
            return future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionFailedError(what + " did not complete within " + TIMEOUT.toSeconds() + " s");
        } catch (ExecutionException e) {
            throw new AssertionFailedError(what + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionFailedError("interrupted waiting for " + what, e);
        }
    }

    /** Spins for the first rounds, then parks for a growing interval capped at 1 ms. */
    static void pause(int round) {
        if (round < SPINS) {
            Thread.onSpinWait();
        } else {
            long nanos = Math.min(MAX_PAUSE_NANOS, 10_000L << Math.min(7, (round - SPINS) / 16));
            LockSupport.parkNanos(nanos);
        }
    }
}
