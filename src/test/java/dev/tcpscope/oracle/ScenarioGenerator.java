package dev.tcpscope.oracle;

import java.time.Duration;
import java.util.SplittableRandom;

/**
 * Makes a {@link Scenario} from a seed, combining the dimensions at random: ending path,
 * concurrency, peer kind and behaviour, sizes (biased toward small, with some up to 1 MiB),
 * write chunks, who connects, relays and the finish timeout.
 *
 * <p>One combination is given extra weight: a reader and a writer on our side with a peer that
 * resets while our writer is still sending many small writes. That is where a reset can be
 * taken by the writer's send while the reader's read returns 0 (known hole 1, a race seen in
 * well under 1% of such trials), so the long run must try it hundreds of times.
 *
 * <p>The TLS dimension is drawn last, so that the other draws of a seed are those of a plain
 * scenario: {@value #TLS_PERCENT}% of the scenarios whose path can run over TLS do, with TLS 1.2 or
 * 1.3 (half each), against the JDK's TLS peer. A TLS scenario on a connection or scope path has
 * our side connect ({@code connectTls}: the API accepts TLS only through {@code TcpServer}), the
 * lambda form ({@code TcpScope.call}, plain TCP only) never runs over TLS, and a peer that
 * half-closes sends a FIN without {@code close_notify} (a truncation) in a third of the TLS 1.3
 * scenarios and in every TLS 1.2 one ({@code close_notify} closes both directions in TLS 1.2,
 * RFC 5246 7.2.1: there is no half-close to make).
 */
final class ScenarioGenerator {

    private static final long KIB = 1024;
    private static final int[] CHUNKS = {100, 512, 4096, 16384, 65536, Integer.MAX_VALUE};
    /** The TLS share of the scenarios that can run over TLS: modest, each costs a handshake. */
    static final int TLS_PERCENT = 12;

    private ScenarioGenerator() {}

    /** {@return the seed of scenario {@code index} of a run started with {@code runSeed}} */
    static long seedOf(long runSeed, int index) {
        long z = runSeed + (index + 1) * 0x9E3779B97F4A7C15L; // SplitMix64
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** {@return the scenario of {@code seed}: the same one every time} */
    static Scenario generate(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        EndingPath path = path(r);
        Scenario.Concurrency concurrency = r.nextBoolean() ? Scenario.Concurrency.ONE_THREAD
                : Scenario.Concurrency.READER_WRITER;
        Scenario.PeerKind peerKind = r.nextBoolean() ? Scenario.PeerKind.PYTHON : Scenario.PeerKind.JDK;
        PeerBehaviour behaviour = behaviour(r);
        boolean raceProne = concurrency == Scenario.Concurrency.READER_WRITER && behaviour == PeerBehaviour.RESETS_FIRST
                && r.nextInt(10) < 8;
        long size = raceProne ? 128 * KIB + r.nextLong(896 * KIB + 1) : size(r);
        int chunk = raceProne ? 256 + r.nextInt(1793) : chunk(r, size);
        long peerSends = switch (behaviour) {
            case SENDS_WHILE_WE_SEND, HALF_CLOSES -> Math.min(size(r), 256 * KIB);
            case RESETS_FIRST -> r.nextInt(3) == 0 ? Math.min(size(r), 64 * KIB) : 0;
            default -> 0;
        };
        long stopAfter = behaviour == PeerBehaviour.STOPS_READING ? r.nextLong(size + 1) : -1;
        long resetAfter = switch (behaviour) {
            case RESETS_FIRST -> size == 0 ? 0 : r.nextLong(Math.min(size, 64 * KIB));
            case RESETS_AFTER_READING_ALL -> size;
            default -> -1;
        };
        boolean ourSideConnects = path.mustConnect()
                || (path.layer() != EndingPath.Layer.SERVER && r.nextBoolean());
        int hops = r.nextInt(10) < 6 ? 0 : 1 + r.nextInt(3);
        boolean shortFinish = behaviour == PeerBehaviour.STOPS_READING || r.nextInt(10) == 0;
        Duration finishTimeout = shortFinish ? Duration.ofMillis(20 + r.nextInt(281)) : Duration.ofSeconds(5);
        Duration limit = path.blocks() ? Duration.ofMillis(100 + r.nextInt(151)) : null;
        boolean probeRead = concurrency == Scenario.Concurrency.ONE_THREAD && behaviour.resetsBeforeOurEnding()
                && r.nextBoolean();
        String tlsVersion = !path.mustConnect() && r.nextInt(100) < TLS_PERCENT ? (r.nextBoolean() ? "1.3" : "1.2") : null;
        if (tlsVersion != null) {
            peerKind = Scenario.PeerKind.JDK; // the TLS peer
            ourSideConnects = path.layer() != EndingPath.Layer.SERVER;
        }
        boolean peerTruncates = behaviour == PeerBehaviour.HALF_CLOSES && tlsVersion != null
                && (tlsVersion.equals("1.2") || r.nextInt(3) == 0);
        return new Scenario(seed, path, concurrency, peerKind, behaviour, size, chunk, peerSends, stopAfter,
                resetAfter, ourSideConnects, hops, finishTimeout, limit, probeRead, tlsVersion, peerTruncates);
    }

    /** Success paths weigh three times as much as failures: they carry most of the promise. */
    private static EndingPath path(SplittableRandom r) {
        EndingPath[] all = EndingPath.values();
        int total = 0;
        for (EndingPath p : all) {
            total += p.success() ? 3 : 1;
        }
        int pick = r.nextInt(total);
        for (EndingPath p : all) {
            pick -= p.success() ? 3 : 1;
            if (pick < 0) {
                return p;
            }
        }
        throw new AssertionError();
    }

    private static PeerBehaviour behaviour(SplittableRandom r) {
        int[] weights = {20, 8, 10, 15, 10, 20, 9, 8}; // in the order of PeerBehaviour.values()
        int pick = r.nextInt(100);
        for (int i = 0; i < weights.length; i++) {
            pick -= weights[i];
            if (pick < 0) {
                return PeerBehaviour.values()[i];
            }
        }
        throw new AssertionError();
    }

    /** 0 B to 1 MiB: 5% empty, 35% up to 1 KiB, 30% up to 64 KiB, 20% up to 512 KiB, 10% up to 1 MiB. */
    private static long size(SplittableRandom r) {
        int p = r.nextInt(100);
        if (p < 5) {
            return 0;
        } else if (p < 40) {
            return 1 + r.nextLong(KIB);
        } else if (p < 70) {
            return KIB + r.nextLong(63 * KIB);
        } else if (p < 90) {
            return 64 * KIB + r.nextLong(448 * KIB);
        }
        return 512 * KIB + r.nextLong(512 * KIB + 1);
    }

    private static int chunk(SplittableRandom r, long size) {
        if (size <= 2 * KIB && r.nextInt(10) == 0) {
            return 1; // one byte per write
        }
        return CHUNKS[r.nextInt(CHUNKS.length)];
    }
}
