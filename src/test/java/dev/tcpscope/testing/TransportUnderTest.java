package dev.tcpscope.testing;

import dev.tcpscope.FinishResult;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which transport the suite runs on (the {@code tcpscope.transport} property the second Surefire
 * execution sets), and the one assertion whose expectation differs by transport: a graceful
 * ending is delivery CONFIRMED on the native transport, and UNCONFIRMED — the documented value —
 * on the portable one, which cannot see acknowledgements.
 */
public final class TransportUnderTest {

    private TransportUnderTest() {}

    /** {@return whether this run forces the portable transport} */
    public static boolean portable() {
        return "portable".equals(System.getProperty("tcpscope.transport"));
    }

    /** Asserts a graceful ending with every byte delivered, as far as the transport can tell. */
    public static void assertDelivered(FinishResult result) {
        if (portable()) {
            assertEquals(FinishResult.Delivery.UNCONFIRMED, result.delivery(), result::toString);
        } else {
            assertTrue(result.delivered(), result::toString);
            assertEquals(FinishResult.Delivery.CONFIRMED, result.delivery(), result::toString);
        }
    }
}
