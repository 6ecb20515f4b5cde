package dev.tcpscope.oracle;

/**
 * The oracle's rules, each a way the three views (the program, the peer, tcpscope's report) can
 * disagree. A scenario that breaks none is consistent.
 */
enum Rule {
    /** The harness failed: a hang, a leak, a missing report, the peer gave up. Never expected. */
    HARNESS,
    /** tcpscope recorded no ending for the connection once everything was over. */
    NO_ENDING,
    /** The report contradicts itself: GRACEFUL without delivered, or finish() said otherwise. */
    REPORT_INCONSISTENT,
    /** The peer read bytes that are not the pattern, or more than we wrote. */
    PEER_BYTES_CORRUPT,
    /** tcpscope reports GRACEFUL (delivered), but the peer did not see every byte then FIN. */
    GRACEFUL_BUT_PEER_NO_FIN,
    /** tcpscope reports an abort, but the peer saw a clean end, and neither exempt case applies. */
    ABORTED_BUT_PEER_SAW_FIN,
    /**
     * The program failed, yet tcpscope ran the graceful ending (sent FIN): the connection ended
     * GRACEFUL, or a finish that then failed (its peer ending is known, which only a finish learns).
     */
    FAILURE_BUT_FINISHED,
    /**
     * TLS: the peer read a {@code close_notify}, then a RST, though the program neither declared
     * success (finish's {@code close_notify}) nor half-closed ({@code shutdownOutput()}'s): a
     * failure path sent {@code close_notify}, which a peer that stops at it takes as a clean end.
     */
    FAILURE_SENT_CLOSE_NOTIFY,
    /** The peer reset before our ending began, yet tcpscope reports the exchange delivered. */
    DELIVERED_AFTER_PEER_RESET,
    /** The program declared success to a peer that reads everything in time, yet it was not delivered. */
    SUCCESS_NOT_DELIVERED,
    /** A scope's success was undelivered without UndeliveredException, or the opposite, or its endings differ. */
    SCOPE_REPORT_WRONG,
    /** The server's counters do not match how the connection ended. */
    SERVER_STATS_WRONG,
    /** The peer reset, and one of our reads returned -1 (a clean end) instead of ConnectionResetException. */
    READER_SAW_EOF_ON_RESET,
    /**
     * One of our reads reported a reset the peer never sent, or a FIN before the peer's bytes; or,
     * over TLS, -1 for a FIN without {@code close_notify}, or a truncation the peer never made.
     */
    READER_WRONG_END,
    /** One of our reads returned bytes that are not the peer's pattern. */
    READER_BYTES_CORRUPT,
    /** A relay's session outcome contradicts the end-to-end outcome, or the session never ended. */
    RELAYS_DISAGREE
}
