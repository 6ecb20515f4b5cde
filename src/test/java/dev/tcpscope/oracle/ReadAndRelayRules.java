package dev.tcpscope.oracle;

import dev.tcpscope.examples.Relay;

import java.util.Map;

/**
 * The {@link Oracle}'s rules about what lies on our side besides the ending: what our readers got
 * (the peer's bytes, then -1 only for its clean end, {@code ConnectionResetException} for its
 * reset, {@code TlsTruncationException} for a FIN without {@code close_notify}), and whether the
 * relays' sessions agree with how the two ends ended.
 */
final class ReadAndRelayRules {

    private ReadAndRelayRules() {}

    /** What our readers (and the probe read) got, against what the peer sent and how it ended. */
    static void checkReaders(Scenario s, ProgramRecord rec, PeerReport p, boolean peerResetFirst,
                                     Map<Rule, String> broken) {
        for (ReadRecord r : new ReadRecord[] {rec.reader(), rec.probe()}) {
            if (r == null) {
                continue;
            }
            if (!r.bytesIntact()) {
                broken.put(Rule.READER_BYTES_CORRUPT, "our reader got " + r);
            }
            if (s.peerTruncates() && !p.peerReset() && r.end() == ReadRecord.End.EOF) {
                broken.put(Rule.READER_WRONG_END, "the peer's FIN came without close_notify (a truncation), our "
                        + (r == rec.probe() ? "probe read" : "reader") + " got " + r);
            } else if (!s.peerTruncates() && r.end() == ReadRecord.End.TRUNCATED) {
                broken.put(Rule.READER_WRONG_END, "the peer never truncated, our reader got " + r);
            } else if (peerResetFirst && r.end() == ReadRecord.End.EOF) {
                broken.put(Rule.READER_SAW_EOF_ON_RESET, "the peer reset after reading " + p.count()
                        + " bytes; our " + (r == rec.probe() ? "probe read" : "reader") + " got " + r);
            } else if (!p.peerReset() && r.end() == ReadRecord.End.RESET) {
                broken.put(Rule.READER_WRONG_END, "the peer never reset, our reader got " + r);
            } else if (r.end() == ReadRecord.End.EOF && r.count() != p.sent() && p.seen() != PeerReport.Seen.ERROR) {
                broken.put(Rule.READER_WRONG_END, "our reader got " + r + " but the peer sent " + p.sent());
            } else if (r.end() == ReadRecord.End.TIMEOUT) {
                broken.merge(Rule.HARNESS, "our reader hit its guard timeout: " + r, (a, b) -> a + "; " + b);
            }
        }
    }

    /** Every relay's session outcome against the end-to-end outcome. */
    static void checkRelays(ProgramRecord rec, PeerReport p, boolean graceful, String exempt,
                                    Map<Rule, String> broken) {
        var sessions = rec.relaySessions();
        if (sessions.contains(null)) {
            broken.put(Rule.RELAYS_DISAGREE, "a relay's session never ended: " + rec.relaySessions().stream()
                    .map(r -> r == null ? "still running" : r.succeeded() ? "ok" : "failed").toList());
            return;
        }
        if (sessions.isEmpty() || exempt != null) {
            return;
        }
        boolean allSucceeded = sessions.stream().allMatch(Relay.Session::succeeded);
        boolean allFailed = sessions.stream().noneMatch(Relay.Session::succeeded);
        if (graceful && p.seen() == PeerReport.Seen.EOF && !p.peerReset() && !allSucceeded) {
            broken.put(Rule.RELAYS_DISAGREE, "both ends ended cleanly, but a relay reports a failure: "
                    + sessions.stream().map(Relay.Session::failure).toList());
        } else if ((p.seen() == PeerReport.Seen.RST || p.seen() == PeerReport.Seen.CLOSE_NOTIFY_THEN_RST
                || (p.peerReset() && p.seen() == PeerReport.Seen.NONE)) && !allFailed) {
            broken.put(Rule.RELAYS_DISAGREE, "an end was reset, but a relay reports success");
        }
    }
}
