package dev.tcpscope.oracle;

import dev.tcpscope.AbortKind;
import dev.tcpscope.ConnectionEnding;
import dev.tcpscope.FinishResult;
import dev.tcpscope.PeerEnding;
import dev.tcpscope.ServerStats;

import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The ending oracle: checks what the program did, what the peer observed and what tcpscope
 * reported against each other, by the promise — FIN only when the program declared success and
 * every byte was delivered; RST on every other path:
 * <ul>
 *   <li>declared success and a peer that reads everything: the peer sees every byte (CRC) then
 *       FIN, and tcpscope reports delivered / GRACEFUL;</li>
 *   <li>any failure: the peer sees RST and tcpscope reports an abort (ABORTED, not delivered, the
 *       scope's UndeliveredException or the server's counters);</li>
 *   <li>tcpscope's report always matches what the peer observed; when the peer resets, our reads
 *       report ConnectionResetException (never -1) and the ending is not delivered unless
 *       everything was acknowledged before the reset.</li>
 * </ul>
 * Over TLS (a scenario with a TLS version) the peer judges at the TLS level, and the same rules
 * read: the clean end (EOF) is {@code close_notify} then FIN after every byte (plaintext); every
 * failure is RST with no {@code close_notify} before it; a FIN without {@code close_notify} (a
 * truncation) is never a clean end, and on a failure path it breaks the rule as a FIN does.
 * Two cases are exempt, as documented: (a) after the program's own {@code shutdownOutput()} a
 * later RST reads as EOF at the peer (the commitment point); (b) "unconfirmed": the finish
 * deadline passed after our FIN reached the peer but before its acknowledgement came back, so the
 * peer saw every byte and FIN while tcpscope reports not delivered. Nothing else is excused.
 */
final class Oracle {

    private Oracle() {}

    /** {@return the verdict on {@code o}; known holes are tolerated or not as {@link KnownHoles} says} */
    static Verdict check(Observation o) {
        Map<Rule, String> broken = new EnumMap<>(Rule.class);
        String outcome = consistentOutcome(o, broken);
        if (broken.isEmpty()) {
            return new Verdict(outcome, java.util.List.of(), 0);
        }
        int hole = KnownHoles.attribute(o, broken);
        var violations = broken.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).toList();
        if (hole > 0 && KnownHoles.tolerated()) {
            return new Verdict("known-hole-" + hole, violations, hole);
        }
        return new Verdict(Verdict.MISMATCH, violations, hole);
    }

    /** Applies every rule, recording what breaks; {@return the outcome's name if nothing does} */
    private static String consistentOutcome(Observation o, Map<Rule, String> broken) {
        Scenario s = o.scenario();
        ProgramRecord rec = o.program();
        PeerReport p = o.peer();
        for (String problem : rec.harnessProblems()) {
            broken.merge(Rule.HARNESS, problem, (a, b) -> a + "; " + b);
        }
        ConnectionEnding e = rec.ending();
        if (e == null && rec.connection() == null && p != null && p.peerReset()
                && dev.tcpscope.testing.TransportUnderTest.portable()
                && rec.failure() instanceof dev.tcpscope.ConnectionResetException) {
            // Portable: the peer reset before the JDK's connect returned, and the JDK closed the
            // channel: connect() reports the reset (native returns a connection that reads it).
            return "peer-reset";
        }
        ServerStats st = rec.serverStats();
        if (e == null && rec.connection() == null && p != null && p.peerReset() && p.count() == 0 && s.tls()
                && st != null && st.accepted() == 1 && st.active() == 0 && st.aborted() == 1
                && st.abortedByKind().keySet().equals(Set.of(AbortKind.TLS_HANDSHAKE))) {
            // TLS 1.3: our server's handshake ends with its session ticket, written after the client's
            // Finished; a peer that resets as soon as its own handshake is complete makes that write
            // fail: the server resets, counts a TLS_HANDSHAKE abort, and the handler never runs.
            return "peer-reset";
        }
        if (e == null) {
            broken.put(Rule.NO_ENDING, rec.connection() == null ? "the program never got a connection: "
                    + rec.failure() : "no ending recorded");
        }
        if (p == null || p.seen() == PeerReport.Seen.ERROR) {
            broken.put(Rule.HARNESS, p == null ? "the peer never reported" : "the peer failed: " + p.detail());
        }
        if (e == null || p == null) {
            return null;
        }
        boolean graceful = e.mode() == ConnectionEnding.Mode.GRACEFUL;
        // Delivered as far as the transport can tell: CONFIRMED on native; on the portable transport,
        // which cannot see acknowledgements, a graceful ending is UNCONFIRMED (README, Transports).
        boolean portable = dev.tcpscope.testing.TransportUnderTest.portable();
        boolean delivered = e.result().graceful();
        boolean failed = rec.failure() != null;
        boolean declared = rec.isDeclared() && !failed;
        long written = e.bytesWritten();
        // The peer reset before our ending began: the program waited for the reset, or the peer
        // saw its socket still ESTABLISHED when it reset (our FIN had not arrived).
        boolean peerResetFirst = p.peerReset() && s.behaviour().resetsBeforeOurEnding()
                && (Boolean.TRUE.equals(rec.peerResetSeenBeforeEnding()) || p.stateAtReset().equals("ESTABLISHED"));
        boolean peerResetOnFin = p.peerReset() && s.behaviour() == PeerBehaviour.RESETS_ON_OUR_FIN;
        // Every ending that finish() made, graceful or not, gives a reason starting "finish"
        // (ConnectionEnder); an abort's peer ending can be RST too (a reset it had seen).
        boolean finishRan = graceful || e.reason().startsWith("finish");

        // tcpscope's report agrees with itself.
        FinishResult f = rec.finishResult();
        FinishResult.Delivery wrongKind = portable ? FinishResult.Delivery.CONFIRMED : FinishResult.Delivery.UNCONFIRMED;
        if (graceful != delivered || (f != null && f.graceful() != delivered) || e.result().delivery() == wrongKind) {
            broken.put(Rule.REPORT_INCONSISTENT, "ending " + e.mode() + ", result " + e.result() + ", finish() " + f);
        }
        if (!p.bytesIntact() || p.count() > written) {
            broken.put(Rule.PEER_BYTES_CORRUPT, p + ", we wrote " + written);
        }

        // tcpscope's report against the peer's observation.
        String exempt = null;
        // (A peer that reset itself did not read to our end: what it saw proves nothing here.)
        if (graceful && !p.peerReset() && !(p.seen() == PeerReport.Seen.EOF && p.count() == written)) {
            broken.put(Rule.GRACEFUL_BUT_PEER_NO_FIN, "GRACEFUL, but " + p + " of " + written + " written");
        }
        if (!graceful && p.seen() == PeerReport.Seen.EOF) {
            if (rec.shutdownOutputAt() >= 0 && p.count() == rec.shutdownOutputAt()) {
                exempt = "exempt-a";
            } else if (declared && e.result().peerEnding() != PeerEnding.RST && p.count() == written) {
                exempt = "exempt-b";
            } else if (peerResetOnFin && finishRan && p.count() == written) {
                exempt = null; // the finish's FIN arrived, then the peer reset: not delivered is the cautious report
            } else if (portable && finishRan && p.peerReset() && e.result().peerEnding() == PeerEnding.RST
                    && p.count() == written) {
                // Portable: a reset seen while draining aborts, though the peer had everything (no
                // acknowledgement to prove it): the cautious report, documented.
                exempt = "exempt-portable";
            } else {
                broken.put(Rule.ABORTED_BUT_PEER_SAW_FIN, "ABORTED (" + e.reason() + "), but " + p
                        + " of " + written + " written");
            }
        }
        if (!graceful && p.seen() == PeerReport.Seen.TRUNCATED) {
            broken.put(Rule.ABORTED_BUT_PEER_SAW_FIN, "ABORTED (" + e.reason() + "), but the peer saw a FIN without"
                    + " close_notify (a truncation, not RST): " + p + " of " + written + " written");
        }
        if (!graceful && p.seen() == PeerReport.Seen.CLOSE_NOTIFY_THEN_RST) {
            if (rec.shutdownOutputAt() >= 0 && p.count() == rec.shutdownOutputAt()) {
                exempt = "exempt-a"; // shutdownOutput()'s close_notify: the commitment point
            } else if (declared && finishRan && p.count() == written) {
                exempt = "exempt-b"; // finish()'s close_notify arrived, its confirmation did not in time
            } else {
                broken.put(Rule.FAILURE_SENT_CLOSE_NOTIFY, "ABORTED (" + e.reason() + "), "
                        + (declared ? "declared, " : "not declared, ") + (finishRan ? "finish ran" : "no finish")
                        + ", but " + p + " of " + written + " written");
            }
        }
        if (peerResetFirst && delivered) {
            broken.put(Rule.DELIVERED_AFTER_PEER_RESET, "the peer reset after reading " + p.count()
                    + " bytes, before our ending; tcpscope reports " + e.mode() + " \"" + e.result().reason() + "\"");
        }

        // The program against tcpscope's report.
        if (failed && finishRan) {
            broken.put(Rule.FAILURE_BUT_FINISHED, "the program failed (" + rec.failure() + ") but tcpscope ran the"
                    + " graceful ending: " + e.mode() + " \"" + e.reason() + "\"");
        }
        if (declared && !graceful && s.behaviour().readsEverything() && !s.shortFinish()
                && !(portable && p.peerReset() && e.result().peerEnding() == PeerEnding.RST)) {
            broken.put(Rule.SUCCESS_NOT_DELIVERED, "declared success, peer " + s.behaviour() + ", but ABORTED \""
                    + e.reason() + "\"");
        }
        if (Boolean.FALSE.equals(rec.peerResetSeenBeforeEnding())) {
            broken.merge(Rule.HARNESS, "the peer's planned reset did not come before our ending", (a, b) -> a + "; " + b);
        }
        checkScopeReport(s, rec, e, declared, graceful, broken);
        checkServerStats(s, rec, graceful, declared, broken);
        ReadAndRelayRules.checkReaders(s, rec, p, peerResetFirst, broken);
        ReadAndRelayRules.checkRelays(rec, p, graceful, exempt, broken);

        if (exempt != null) {
            return exempt;
        } else if (p.peerReset() && s.behaviour().resetsBeforeOurEnding()) {
            return "peer-reset";
        } else if (peerResetOnFin) {
            return "reset-after-FIN";
        } else if (graceful) {
            return "FIN";
        }
        return declared ? "RST:undelivered" : "RST:failure";
    }

    private static void checkScopeReport(Scenario s, ProgramRecord rec, ConnectionEnding e, boolean declared,
                                         boolean graceful, Map<Rule, String> broken) {
        boolean scopeOwned = s.path().layer() == EndingPath.Layer.SCOPE || s.path() == EndingPath.SERVER_TRANSFER;
        if (!scopeOwned) {
            return;
        }
        boolean thrown = rec.undelivered() != null;
        if (declared && !graceful && !thrown) {
            broken.put(Rule.SCOPE_REPORT_WRONG, "declared success, the connection ended ABORTED (\"" + e.reason()
                    + "\"), but no UndeliveredException");
        } else if (thrown && (graceful || !declared)) {
            broken.put(Rule.SCOPE_REPORT_WRONG, "UndeliveredException, but the connection is " + e.mode()
                    + (declared ? "" : " and success was not declared"));
        }
        Map<?, ConnectionEnding> endings = rec.scopeEndings();
        ConnectionEnding fromScope = endings == null ? null : endings.get(rec.connection());
        if (fromScope != null && !Objects.equals(fromScope, e)) {
            broken.put(Rule.SCOPE_REPORT_WRONG, "scope.endings() says " + fromScope + ", the connection " + e);
        }
    }

    private static void checkServerStats(Scenario s, ProgramRecord rec, boolean graceful, boolean declared,
                                         Map<Rule, String> broken) {
        ServerStats st = rec.serverStats();
        if (s.path().layer() != EndingPath.Layer.SERVER || st == null) {
            return;
        }
        if (st.accepted() != 1 || st.active() != 0) {
            broken.put(Rule.SERVER_STATS_WRONG, "expected 1 accepted, 0 active: " + st);
            return;
        }
        if (s.path() == EndingPath.SERVER_TRANSFER) {
            return; // the pool, not the server, ends a transferred connection
        }
        Set<AbortKind> kinds = declared ? Set.of(AbortKind.UNDELIVERED) : switch (s.path()) {
            case SERVER_TIME_LIMIT -> Set.of(AbortKind.TIME_LIMIT, AbortKind.HANDLER_FAILED);
            case SERVER_IDLE_LIMIT -> Set.of(AbortKind.IDLE, AbortKind.HANDLER_FAILED);
            case SERVER_SHUTDOWN -> Set.of(AbortKind.SHUTDOWN, AbortKind.HANDLER_FAILED);
            default -> Set.of(AbortKind.HANDLER_FAILED);
        };
        boolean ok = graceful ? st.graceful() == 1 && st.aborted() == 0
                : st.graceful() == 0 && st.aborted() == 1 && kinds.containsAll(st.abortedByKind().keySet());
        if (!ok) {
            broken.put(Rule.SERVER_STATS_WRONG, "ending " + (graceful ? "GRACEFUL" : "ABORTED, expected one of "
                    + kinds) + ", server counted " + st);
        }
    }
}
