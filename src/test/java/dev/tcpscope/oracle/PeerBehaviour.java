package dev.tcpscope.oracle;

/**
 * What the far end of a scenario's connection does, the peer dimension of the ending oracle.
 * Every peer reads until our side ends (FIN or RST) unless it stops or resets first, and closes
 * its socket after that end (FIN: nothing is left unread).
 */
enum PeerBehaviour {
    /** Reads every byte as it comes; sends nothing. */
    READS_ALL,
    /** Reads 4 KiB at a time, 1 ms apart, into a 16 KiB receive buffer. */
    READS_SLOWLY,
    /** Reads some bytes, then stops reading (4 KiB receive buffer) until our side has ended. */
    STOPS_READING,
    /** Writes its own bytes while it reads ours. */
    SENDS_WHILE_WE_SEND,
    /** Writes its bytes, then half-closes (FIN), and goes on reading. */
    HALF_CLOSES,
    /** Reads part of our bytes (possibly none), then resets, before our side ends. */
    RESETS_FIRST,
    /** Reads exactly every byte we write, then resets, before our side ends. */
    RESETS_AFTER_READING_ALL,
    /** Reads to our FIN, then resets instead of ending with its own FIN. */
    RESETS_ON_OUR_FIN;

    /** {@return whether the peer resets before our side's ending begins (the program waits for it)} */
    boolean resetsBeforeOurEnding() {
        return this == RESETS_FIRST || this == RESETS_AFTER_READING_ALL;
    }

    /** {@return whether the peer ends its own direction first, so our readers read to its end} */
    boolean endsFirst() {
        return this == HALF_CLOSES || resetsBeforeOurEnding();
    }

    /**
     * {@return whether the peer, left alone, reads every byte and acknowledges our FIN in time: a
     * declared success must then be delivered}
     */
    boolean readsEverything() {
        return this == READS_ALL || this == READS_SLOWLY || this == SENDS_WHILE_WE_SEND || this == HALF_CLOSES;
    }
}
