package dev.tcpscope.internal.poll;

import java.io.IOException;

/**
 * Registers a descriptor with its poller for both directions at once, as a reader's and a
 * writer's first waits would: for the tests of the poller's table, its events and its failure,
 * which need registrations without parking a thread for each.
 */
final class Registered {

    private Registered() {}

    /** {@return {@code descriptor}, now registered for input and output} */
    static SocketDescriptor now(SocketDescriptor descriptor) throws IOException {
        descriptor.acquire();
        try {
            descriptor.ensureInterest(Poller.READ_INTEREST | Poller.WRITE_INTEREST, "register");
        } finally {
            descriptor.release();
        }
        return descriptor;
    }
}
