package dev.tcpscope.oracle;

import java.time.Duration;

/**
 * One generated scenario of the ending oracle: a program on our side (tcpscope) ends a
 * connection by {@link #path}, while a peer that does not use tcpscope behaves as
 * {@link #behaviour} says. Everything follows from {@link #seed}: {@link ScenarioGenerator#generate}
 * makes the same scenario from the same seed, which is how a failure is replayed.
 *
 * @param seed             the scenario's own seed
 * @param path             how the program ends the connection
 * @param concurrency      one thread on our side, or a reader thread and a writer thread
 * @param peerKind         which peer implementation plays the far end
 * @param behaviour        what the peer does
 * @param size             bytes the program writes (the pattern, from offset 0)
 * @param chunk            bytes per write call
 * @param peerSends        bytes the peer writes to us (the pattern, from offset 0)
 * @param stopAfter        {@link PeerBehaviour#STOPS_READING}: bytes read before stopping; else -1
 * @param resetAfter       for the resetting behaviours that reset before our ending: bytes read
 *                         before the reset; else -1
 * @param ourSideConnects  the program connects (the peer listens); else the peer connects to us
 * @param hops             relays (examples/.../Relay) between the two ends, 0 to 3
 * @param finishTimeout    the deadline of the graceful ending
 * @param limit            for paths that block: the scope timeout, handler time limit or idle
 *                         limit; else {@code null}
 * @param probeRead        one thread, peer resets first: the program reads once after the reset
 *                         (which must throw ConnectionResetException), then ends as planned
 * @param tlsVersion       "1.2" or "1.3": the connection runs over TLS end to end (relays pass the
 *                         records on), the peer is the JDK's TLS peer and judges at the TLS level;
 *                         {@code null}: plain TCP
 * @param peerTruncates    TLS, {@link PeerBehaviour#HALF_CLOSES}: the peer's half-close is a FIN
 *                         without {@code close_notify}, which our reader must report as a
 *                         truncation ({@code TlsTruncationException}), never as -1
 */
record Scenario(long seed, EndingPath path, Concurrency concurrency, PeerKind peerKind, PeerBehaviour behaviour,
                long size, int chunk, long peerSends, long stopAfter, long resetAfter, boolean ourSideConnects,
                int hops, Duration finishTimeout, Duration limit, boolean probeRead, String tlsVersion,
                boolean peerTruncates) {

    /** Threads on our side. */
    enum Concurrency { ONE_THREAD, READER_WRITER }

    /** The peer's implementation: both are single-threaded per socket. */
    enum PeerKind { PYTHON, JDK }

    /** Below this the finish timeout counts as short: a declared success may then be undelivered. */
    static final Duration SHORT_FINISH = Duration.ofSeconds(1);

    boolean shortFinish() {
        return finishTimeout.compareTo(SHORT_FINISH) < 0;
    }

    boolean tls() {
        return tlsVersion != null;
    }

    boolean readerWriter() {
        return concurrency == Concurrency.READER_WRITER;
    }

    /**
     * {@return whether our reader reads to the peer's end (its FIN or RST) rather than a count}:
     * only when the peer ends first; otherwise a reader waiting for the end would wait for our own
     * ending, which comes after it.
     */
    boolean readsToPeerEnd() {
        return behaviour.endsFirst();
    }

    /** {@return the seed as the replay property} */
    String replayProperty() {
        return "-Doracle.replay=" + Long.toHexString(seed);
    }

    /** {@return one line that says everything about the scenario} */
    String describe() {
        String peer = peerKind.name().toLowerCase() + ":" + behaviour
                + (stopAfter >= 0 ? "(stop@" + stopAfter + ")" : "")
                + (resetAfter >= 0 ? "(reset@" + resetAfter + ")" : "")
                + (peerSends > 0 ? "(sends " + peerSends + ")" : "") + (peerTruncates ? "(truncates)" : "");
        return path + " " + (readerWriter() ? "reader+writer" : "one-thread") + (probeRead ? "+probe-read" : "")
                + " peer=" + peer + " size=" + size + "/" + (chunk == Integer.MAX_VALUE ? "whole" : chunk)
                + " finish=" + finishTimeout.toMillis() + "ms" + (limit != null ? " limit=" + limit.toMillis() + "ms" : "")
                + (ourSideConnects ? " we-connect" : " peer-connects") + (hops > 0 ? " relays=" + hops : "")
                + (tls() ? " tls" + tlsVersion : "")
                + " seed=" + Long.toHexString(seed);
    }

    @Override
    public String toString() {
        return describe();
    }
}
