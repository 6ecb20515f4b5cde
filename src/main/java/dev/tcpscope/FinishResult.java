package dev.tcpscope;

/**
 * What a graceful ending ({@link TcpConnection#finish}) achieved.
 *
 * @param delivered           the peer's TCP acknowledged every byte we wrote and our FIN; when
 *                            {@code false} the connection was aborted (the peer got RST)
 * @param unacknowledgedBytes bytes written but not acknowledged when the connection was aborted
 *                            (SIOCOUTQ); 0 when delivered
 * @param peerEnding          how the peer ended by the deadline
 * @param bytesDiscarded      bytes of the peer's input read and thrown away while ending
 * @param reason              a human-readable summary, e.g. "12 bytes were not acknowledged by the deadline"
 */
public record FinishResult(boolean delivered, long unacknowledgedBytes, PeerEnding peerEnding,
                           long bytesDiscarded, String reason) {
}
