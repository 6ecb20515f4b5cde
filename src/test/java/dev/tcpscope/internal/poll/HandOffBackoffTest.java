package dev.tcpscope.internal.poll;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When the platform polling thread hands off ({@link HandOffBackoff}): always while hand-offs
 * find events; after {@code k} fruitless ones in a row, only after {@code 2^k} batches of its own
 * (at most 64); one fruitful hand-off resets it.
 *
 * <p>Checked by breaking it on purpose: with the reset on a fruitful hand-off removed,
 * {@link #aFruitfulHandOffResetsTheBackoff} fails; with the shift not capped,
 * {@link #theBackoffStopsGrowingAt64Batches} fails; with no backoff at all,
 * {@link #fruitlessHandOffsDoubleTheBatchesServedByThePlatformThread} fails.
 */
class HandOffBackoffTest {

    /** {@return how many batches the platform thread serves itself before it hands off again} */
    private static int batchesBeforeHandOff(HandOffBackoff backoff) {
        int served = 0;
        while (!backoff.shouldHandOff()) {
            served++;
            assertTrue(served <= 1 << HandOffBackoff.LONGEST_BACKOFF_SHIFT, "never hands off again");
        }
        return served;
    }

    @Test
    void handOffsThatFindEventsNeverBackOff() {
        HandOffBackoff backoff = new HandOffBackoff();
        for (int i = 0; i < 100; i++) {
            assertEquals(0, batchesBeforeHandOff(backoff));
            backoff.handOffEnded(true);
        }
    }

    @Test
    void fruitlessHandOffsDoubleTheBatchesServedByThePlatformThread() {
        HandOffBackoff backoff = new HandOffBackoff();
        assertEquals(0, batchesBeforeHandOff(backoff));
        for (int k = 1; k <= HandOffBackoff.LONGEST_BACKOFF_SHIFT; k++) {
            backoff.handOffEnded(false);
            assertEquals(1 << k, batchesBeforeHandOff(backoff), "after " + k + " fruitless hand-offs");
        }
    }

    @Test
    void theBackoffStopsGrowingAt64Batches() {
        HandOffBackoff backoff = new HandOffBackoff();
        for (int k = 0; k < 20; k++) {
            batchesBeforeHandOff(backoff);
            backoff.handOffEnded(false);
        }
        assertEquals(64, batchesBeforeHandOff(backoff));
    }

    @Test
    void aFruitfulHandOffResetsTheBackoff() {
        HandOffBackoff backoff = new HandOffBackoff();
        for (int k = 0; k < 3; k++) {
            batchesBeforeHandOff(backoff);
            backoff.handOffEnded(false);
        }
        assertEquals(8, batchesBeforeHandOff(backoff));
        backoff.handOffEnded(true);
        assertEquals(0, batchesBeforeHandOff(backoff));
        backoff.handOffEnded(false);
        assertEquals(2, batchesBeforeHandOff(backoff), "counting starts again from one fruitless hand-off");
    }
}
