package dev.tcpscope.testing;

import dev.tcpscope.internal.poll.SocketDescriptor;

/**
 * A snapshot of the socket layer's own accounting, {@link SocketDescriptor#openedCount()} and
 * {@link SocketDescriptor#releasedCount()}, to compare with later: "this test opened 3 sockets
 * and all 3 were closed".
 *
 * <p>The counters are process-wide; deltas are meaningful only while tests run one at a time,
 * which is how Surefire runs this suite.
 *
 * @param opened   sockets adopted by the layer when the snapshot was taken
 * @param released sockets whose close(2) had been called then
 */
public record DescriptorCounts(long opened, long released) {

    /** {@return the counters now} */
    public static DescriptorCounts now() {
        return new DescriptorCounts(SocketDescriptor.openedCount(), SocketDescriptor.releasedCount());
    }

    /** {@return sockets the layer opened since this snapshot} */
    public long openedSince() {
        return SocketDescriptor.openedCount() - opened;
    }

    /** {@return sockets the layer released (close(2)) since this snapshot} */
    public long releasedSince() {
        return SocketDescriptor.releasedCount() - released;
    }

    /**
     * Waits until every socket opened since this snapshot has been released; close(2) happens on
     * whichever thread drops the last reference, so it may lag the test thread.
     *
     * @param what named in the failure, e.g. the test
     */
    public void awaitAllReleased(String what) {
        Await.until(() -> what + ": the socket layer opened " + openedSince() + " sockets but released "
                + releasedSince() + " (close(2) calls) within " + Await.TIMEOUT.toSeconds() + " s",
                Await.TIMEOUT, () -> openedSince() == releasedSince());
    }
}
