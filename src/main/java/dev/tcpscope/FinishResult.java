package dev.tcpscope;

/**
 * What a graceful ending ({@link TcpConnection#finish}) achieved.
 *
 * @param delivery            how far delivery is known: confirmed, graceful but unconfirmed, or
 *                            not delivered (aborted); {@link #delivered()} and {@link #graceful()}
 *                            are read from it
 * @param unacknowledgedBytes bytes written but not acknowledged when the connection was aborted
 *                            (SIOCOUTQ); 0 when delivered; -1 when the transport cannot tell (the
 *                            portable one)
 * @param peerEnding          how the peer ended by the deadline
 * @param bytesDiscarded      bytes of the peer's input read and thrown away while ending
 * @param reason              a human-readable summary, e.g. "12 bytes were not acknowledged by the deadline"
 */
public record FinishResult(Delivery delivery, long unacknowledgedBytes, PeerEnding peerEnding,
                           long bytesDiscarded, String reason) {

    /** What the graceful ending can say about delivery. */
    public enum Delivery {
        /**
         * Our FIN went out after every byte and the peer's TCP acknowledged all of it before any
         * reset or other fatal error was seen (Linux, native transport: SIOCOUTQ read 0). The
         * connection closed without RST.
         */
        CONFIRMED,
        /**
         * The connection ended gracefully — our FIN went out after every byte, no reset or other
         * fatal error was seen, and the peer then sent its FIN or stayed quiet — but the transport
         * cannot see the peer's acknowledgements (the portable transport, on the JDK's channels),
         * so delivery is not proven. This is the best that transport can do: a scope or server
         * counts it as a graceful ending, not as a failure.
         */
        UNCONFIRMED,
        /** The connection was aborted: the peer got RST. */
        NOT_DELIVERED
    }

    /** @throws NullPointerException {@code delivery} is null */
    public FinishResult {
        java.util.Objects.requireNonNull(delivery, "delivery");
    }

    /**
     * {@return whether the peer's TCP acknowledged every byte we wrote and our FIN, and we saw it:
     * {@code delivery() == Delivery.CONFIRMED}} When {@code false}, see {@link #delivery()}: the
     * connection was aborted (the peer got RST), or, on a transport that cannot see
     * acknowledgements, it ended gracefully without that proof.
     */
    public boolean delivered() {
        return delivery == Delivery.CONFIRMED;
    }

    /** {@return whether the connection ended gracefully (FIN, no RST): delivery confirmed or unconfirmed} */
    public boolean graceful() {
        return delivery != Delivery.NOT_DELIVERED;
    }
}
