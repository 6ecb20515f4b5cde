package dev.tcpscope.faults;

import dev.tcpscope.internal.poll.Poller;

import java.lang.reflect.Field;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * How many slots of the shared {@link Poller}'s table hold a descriptor: read by reflection (the
 * poller has no public count, and the fault suite does not change the main code). Fails loudly if
 * the table is renamed, rather than passing without looking.
 */
final class PollerSlots {

    private PollerSlots() {}

    /** {@return occupied slots of {@link Poller#shared()}} */
    static int occupied() {
        try {
            Field field = Poller.class.getDeclaredField("slots");
            field.setAccessible(true);
            AtomicReferenceArray<?> slots = (AtomicReferenceArray<?>) field.get(Poller.shared());
            int n = 0;
            for (int i = 0; i < slots.length(); i++) {
                if (slots.get(i) != null) {
                    n++;
                }
            }
            return n;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot read the poller's slot table (renamed?): " + e, e);
        }
    }
}
