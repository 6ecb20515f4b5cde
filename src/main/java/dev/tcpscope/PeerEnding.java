package dev.tcpscope;

/** How the peer ended its side of a connection, as far as we could see by a deadline. */
public enum PeerEnding {
    /** The peer sent FIN: a clean end of its stream (RFC 9293 CLOSE). */
    FIN,
    /** The peer sent RST: it aborted (RFC 9293 ABORT); what it sent may be incomplete. */
    RST,
    /** Neither FIN nor RST arrived before the deadline. */
    TIMEOUT,
    /** We did not wait to see: our side aborted the connection (and had seen no reset from the peer). */
    UNKNOWN
}
