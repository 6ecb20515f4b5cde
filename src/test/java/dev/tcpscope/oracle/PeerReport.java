package dev.tcpscope.oracle;

import dev.tcpscope.testing.Patterns;

import java.util.zip.CRC32;

/**
 * What the peer observed on one connection: the bytes it read (count and CRC-32, checked against
 * the pattern) and how our side's ending reached it.
 *
 * @param seen      how our side's ending arrived
 * @param count     bytes the peer read
 * @param crc       CRC-32 of those bytes
 * @param sent      bytes the peer wrote
 * @param peerReset whether the peer itself reset the connection (its plan said so)
 * @param stateAtReset the peer's TCP state when it reset, if it could tell (the Python peer
 *                  reads TCP_INFO: ESTABLISHED means our FIN had not arrived); "-" otherwise
 * @param detail    anything else, e.g. why it gave up
 */
record PeerReport(Seen seen, long count, long crc, long sent, boolean peerReset, String stateAtReset, String detail) {

    /** How our side's ending arrived at the peer (over TLS: at the TLS level). */
    enum Seen {
        /** The clean end: FIN (the read returned end of stream); over TLS, {@code close_notify} then FIN. */
        EOF,
        /** RST: "connection reset" (over TLS: with no {@code close_notify} before it). */
        RST,
        /** TLS only: FIN without {@code close_notify}, a truncation, never a clean end. */
        TRUNCATED,
        /** TLS only: {@code close_notify}, then RST (a peer that stops at {@code close_notify} takes it as the end). */
        CLOSE_NOTIFY_THEN_RST,
        /** Neither: the peer reset first, before our ending arrived. */
        NONE,
        /** The peer failed or gave up (its guard): never an expected outcome. */
        ERROR
    }

    /** {@return whether the bytes read are the pattern's first {@link #count} bytes} */
    boolean bytesIntact() {
        return crc == patternCrc(count);
    }

    /** {@return the CRC-32 of the first {@code length} bytes of the pattern} */
    static long patternCrc(long length) {
        CRC32 crc = new CRC32();
        byte[] block = Patterns.bytes(0, Patterns.PERIOD * 256);
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(block.length, length - done);
            crc.update(block, 0, n);
            done += n;
        }
        return crc.getValue();
    }

    /** Parses {@code DONE id SEEN count crc sent peerreset state detail} of the Python peer. */
    static PeerReport parse(String line) {
        String[] f = line.split(" ");
        if (f.length != 9 || !f[0].equals("DONE")) {
            throw new IllegalArgumentException("not a DONE line: " + line);
        }
        return new PeerReport(Seen.valueOf(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]), Long.parseLong(f[5]),
                f[6].equals("1"), f[7], f[8]);
    }

    @Override
    public String toString() {
        return "peer saw " + seen + " after " + count + " bytes" + (bytesIntact() ? "" : " (NOT the pattern)")
                + ", sent " + sent + (peerReset ? ", reset itself (state " + stateAtReset + ")" : "")
                + (detail.equals("-") ? "" : ", " + detail);
    }
}
