package dev.tcpscope.server;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * A bounded wait for a condition on the server's side (counters, descriptors) that has no
 * notification of its own. The bound is a guard against a hung test, never an assertion about
 * how long something takes.
 */
public final class Await {

    /** The default guard: far longer than anything here should take. */
    public static final Duration GUARD = Duration.ofSeconds(60);

    private Await() {}

    /** Waits until {@code condition} holds, or fails after {@link #GUARD} describing the state. */
    public static void until(String what, BooleanSupplier condition, Supplier<?> state) {
        until(what, condition, state, GUARD);
    }

    /** Waits until {@code condition} holds, or fails after {@code guard} describing the state. */
    public static void until(String what, BooleanSupplier condition, Supplier<?> state, Duration guard) {
        long deadline = System.nanoTime() + guard.toNanos();
        long pause = 100_000; // 0.1 ms, growing to 10 ms
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("gave up waiting (guard " + guard + ") until " + what + "; state: " + state.get());
            }
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, 10_000_000);
        }
    }
}
