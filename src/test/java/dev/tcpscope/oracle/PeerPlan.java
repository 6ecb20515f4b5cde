package dev.tcpscope.oracle;

import java.time.Duration;

/**
 * What a peer is told to do on one connection, derived from a {@link Scenario}; both peer
 * implementations follow it the same way (see {@code oracle_peer.py} for the words).
 *
 * @param sends      bytes of the pattern to write while reading
 * @param halfClose  after writing them, shutdown(SHUT_WR)
 * @param receiveBuffer SO_RCVBUF before connecting or listening; 0 for the default
 * @param stopAfter  stop reading after this many bytes, until {@link PeerSession#resume()}; -1: never
 * @param resetAfter after reading this many bytes, reset (SO_LINGER {1,0} and close); -1: never
 * @param resetOnEof after our FIN, reset instead of closing
 * @param slow       read 4 KiB at a time, 1 ms apart
 * @param guard      give up (and report an error) after this long without progress
 * @param tlsVersion "1.2" or "1.3": speak TLS (the JDK peer only), counting plaintext; {@code null}: plain TCP
 * @param truncate   TLS: the half-close is a FIN without {@code close_notify} (a truncation)
 */
record PeerPlan(long sends, boolean halfClose, int receiveBuffer, long stopAfter, long resetAfter, boolean resetOnEof,
                boolean slow, Duration guard, String tlsVersion, boolean truncate) {

    /** The guard: far longer than any scenario takes; reaching it is a failure. */
    static final Duration GUARD = Duration.ofSeconds(30);

    /** {@return the plan for the peer of {@code s}} */
    static PeerPlan of(Scenario s) {
        int receiveBuffer = switch (s.behaviour()) {
            case STOPS_READING -> 4096;
            case READS_SLOWLY -> 16384;
            default -> 0;
        };
        return new PeerPlan(s.peerSends(), s.behaviour() == PeerBehaviour.HALF_CLOSES, receiveBuffer, s.stopAfter(),
                s.resetAfter(), s.behaviour() == PeerBehaviour.RESETS_ON_OUR_FIN,
                s.behaviour() == PeerBehaviour.READS_SLOWLY, GUARD, s.tlsVersion(), s.peerTruncates());
    }

    /** {@return whether the peer stops reading, so the runner must resume it once our side has ended} */
    boolean stops() {
        return stopAfter >= 0;
    }

    /** {@return the plan as the Python peer's words} (plain TCP only: TLS plans go to the JDK peer) */
    String words() {
        if (tlsVersion != null) {
            throw new IllegalStateException("the Python peer speaks plain TCP only");
        }
        return "sends=" + sends + " halfclose=" + (halfClose ? 1 : 0) + " rcvbuf=" + receiveBuffer + " stop=" + stopAfter
                + " reset=" + resetAfter + " resetoneof=" + (resetOnEof ? 1 : 0) + " slow=" + (slow ? 1 : 0)
                + " guard=" + guard.toSeconds();
    }
}
