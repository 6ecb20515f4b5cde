package dev.tcpscope;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.StructuredTaskScope.Joiner;

/**
 * The graceful ending of a {@link TcpScope} whose program declared success
 * ({@link TcpScope#finish()}): the rules of which connection ends how, in the order that keeps a
 * tainted connection from ever getting FIN.
 *
 * <ol>
 *   <li>The scope stops taking connections, so a subtask still running cannot add one
 *       unnoticed.</li>
 *   <li>Subtasks that did not succeed by now (cancelled or unfinished when {@code join()}
 *       returned: a race's losers) are set aside: the connections of their branches are aborted,
 *       which is expected and not reported, and so is every connection they wrote to — which is
 *       reported if the scope was to finish it.</li>
 *   <li>The connections the scope is responsible for (those of its own branch and of subtasks
 *       that succeeded) that are still open are finished concurrently, each within the finish
 *       timeout.</li>
 *   <li>Every responsible connection that ended aborted, except those the work had already ended
 *       itself before {@code finish()}, is reported in one {@link UndeliveredException}.</li>
 * </ol>
 */
final class ScopeFinish {

    private ScopeFinish() {}

    /** {@return null if every connection was delivered, or the exception that says which were not} */
    static UndeliveredException run(ScopeLedger ledger, Duration timeout) {
        ledger.advance(ScopeLedger.Phase.FINISHING);
        ledger.setAsideRunning();
        List<TcpConnection> responsible = ledger.responsible();
        List<TcpConnection> open = new ArrayList<>();
        Set<TcpConnection> wasOpen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (TcpConnection c : responsible) {
            if (c.isOpen()) {
                open.add(c);
                wasOpen.add(c);
            }
        }
        try {
            finishAll(open, timeout);
        } finally {
            ledger.advance(ScopeLedger.Phase.ENDED);
        }
        List<String> undelivered = new ArrayList<>();
        for (TcpConnection c : responsible) {
            ConnectionEnding ending = c.ending().orElse(null);
            boolean oursToEnd = wasOpen.contains(c) || ledger.abortedByScope(c);
            if (oursToEnd && (ending == null || ending.mode() == ConnectionEnding.Mode.ABORTED)) {
                undelivered.add(c.remoteAddress() + ": " + (ending == null ? "no ending recorded" : ending.reason()));
            }
        }
        if (undelivered.isEmpty()) {
            return null;
        }
        Map<TcpConnection, ConnectionEnding> endings = ledger.endings();
        return new UndeliveredException("finish(): " + undelivered.size() + " of the " + responsible.size()
                + " connections the scope was to end gracefully ended aborted (RST): "
                + String.join("; ", undelivered), endings);
    }

    /** Finishes every connection concurrently (one alone in the calling thread), all within {@code timeout}. */
    private static void finishAll(List<TcpConnection> connections, Duration timeout) {
        if (connections.size() == 1) {
            connections.getFirst().finish(timeout); // an interrupt aborts it; the status stays set
            return;
        }
        if (connections.isEmpty()) {
            return;
        }
        try (var finishing = StructuredTaskScope.open(Joiner.<FinishResult>awaitAll(),
                cf -> cf.withName("tcpscope-finish"))) {
            for (TcpConnection c : connections) {
                finishing.fork(() -> c.finish(timeout));
            }
            finishing.join();
        } catch (InterruptedException e) {
            // Interrupted while finishing: abort what is still being finished.
            Thread.currentThread().interrupt();
            for (TcpConnection c : connections) {
                c.abort("interrupted while the scope was finishing", e);
            }
        }
    }
}
