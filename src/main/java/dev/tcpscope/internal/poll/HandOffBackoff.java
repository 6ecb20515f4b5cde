package dev.tcpscope.internal.poll;

/**
 * When the platform polling thread hands polling to the virtual one ({@link PollingThreads}):
 * after every batch that woke a virtual thread, unless recent hand-offs were fruitless.
 *
 * <p><b>Why.</b> A hand-off pays for itself when the next event comes within the virtual
 * thread's polling window (a ping-pong's reply, an echo's next message): nothing then sleeps in
 * the kernel. When events are further apart than the window, each hand-off is a window of polling
 * on a carrier for nothing (up to {@link PollingThreads#QUIET_NANOS}, plus the hand-back), CPU
 * that a two-core machine's other threads were waiting for. Measured on sequential short
 * connections (connect, 64 B each way, graceful ending; bench/README): 1.6 hand-offs per
 * connection, 45% of them finding an event; the carriers spent about 100 µs more CPU per
 * connection than with no hand-off at all.
 *
 * <p><b>The rule.</b> After {@code k} fruitless hand-offs in a row (windows that found no event),
 * the platform thread serves the next {@code 2^k} batches itself (at most
 * {@code 2^}{@link #LONGEST_BACKOFF_SHIFT}), then tries a hand-off again; one fruitful hand-off
 * resets {@code k}. A ping-pong or a busy echo finds events in every window and never backs off;
 * a trickle of events backs off within a few hand-offs. Backing off changes only who polls, never
 * which events are seen: both threads poll the same epoll set.
 *
 * <p>Used by the platform polling thread only: no synchronization.
 */
final class HandOffBackoff {

    /** At most 2^6 = 64 batches served by the platform thread between two tries. */
    static final int LONGEST_BACKOFF_SHIFT = 6;

    private int fruitlessInARow;
    private int batchesBeforeNextTry;

    /** {@return whether to hand off after a batch that woke a virtual thread} Counts the batch if not. */
    boolean shouldHandOff() {
        if (batchesBeforeNextTry > 0) {
            batchesBeforeNextTry--;
            return false;
        }
        return true;
    }

    /** Records how a hand-off ended: whether its window found any event. */
    void handOffEnded(boolean foundEvents) {
        if (foundEvents) {
            fruitlessInARow = 0;
        } else {
            fruitlessInARow = Math.min(fruitlessInARow + 1, LONGEST_BACKOFF_SHIFT);
            batchesBeforeNextTry = 1 << fruitlessInARow;
        }
    }
}
