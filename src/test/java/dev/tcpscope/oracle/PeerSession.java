package dev.tcpscope.oracle;

import java.time.Duration;

/**
 * One connection's peer, as the runner and the program see it while the scenario runs: its
 * events ({@code RESET_SENT}, {@code STOPPED}, ...) can be awaited, and at the end it reports what
 * it observed.
 */
interface PeerSession {

    /** {@return the port the peer listens on (listen mode only)} */
    int port();

    /**
     * Waits until the peer's connect() has returned, or its accept(), at most {@code timeout}.
     *
     * @return whether it did (false: it failed, or did not in time)
     */
    boolean awaitConnected(Duration timeout);

    /**
     * Waits until the peer has reset its connection (its plan said so), at most {@code timeout}.
     *
     * @return whether it did
     */
    boolean awaitResetSent(Duration timeout);

    /** A peer that stopped reading reads again. */
    void resume();

    /**
     * Waits for the peer's report, at most {@code timeout}.
     *
     * @return the report, or {@code null} if it did not come in time (the peer is then cancelled)
     */
    PeerReport awaitDone(Duration timeout);
}
