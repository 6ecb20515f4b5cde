package dev.tcpscope.scope;

import dev.tcpscope.testing.Await;

import java.util.Arrays;

/** Waits on what other threads are doing, never with a fixed sleep. */
public final class Threads {

    private Threads() {}

    /**
     * Waits until {@code thread} is waiting inside a method whose stack frame's class and
     * method name contain {@code frame} (e.g. {@code "ThreadFlock.awaitAll"}: an owner in
     * {@code join()}, which parks without a blocker object).
     */
    public static void awaitWaitingIn(Thread thread, String frame) {
        Await.until(thread + " waiting in " + frame, () -> {
            Thread.State state = thread.getState();
            return (state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING)
                    && Arrays.stream(thread.getStackTrace())
                    .anyMatch(e -> (e.getClassName() + "." + e.getMethodName()).contains(frame));
        });
    }
}
