package dev.tcpscope.oracle;

import dev.tcpscope.ConnectionEnding;
import dev.tcpscope.FinishResult;
import dev.tcpscope.ServerStats;
import dev.tcpscope.TcpConnection;
import dev.tcpscope.UndeliveredException;
import dev.tcpscope.examples.Relay;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the program on our side did, and what tcpscope told it: filled in by the path being run
 * (from the program's threads), read by the oracle once the scenario is over.
 */
final class ProgramRecord {

    private TcpConnection connection;
    private boolean declared;
    private Throwable failure;
    private long shutdownOutputAt = -1;
    private FinishResult finishResult;
    private UndeliveredException undelivered;
    private Map<TcpConnection, ConnectionEnding> scopeEndings;
    private ReadRecord reader;
    private ReadRecord probe;
    private Throwable writeFailure;
    private Boolean peerResetSeenBeforeEnding;
    private ServerStats serverStats;
    private List<Relay.Session> relaySessions = List.of();
    private final List<String> harnessProblems = new ArrayList<>();

    /** The program's connection (the first one it got; a scenario has one). */
    synchronized void connection(TcpConnection c) {
        if (connection == null) {
            connection = c;
        }
    }

    synchronized TcpConnection connection() {
        return connection;
    }

    /** The program declared success: the success path's ending (finish, the scope's success) follows. */
    synchronized void declared() {
        declared = true;
    }

    synchronized boolean isDeclared() {
        return declared;
    }

    /** The program failed (on purpose or not): the first failure is the one that counts. */
    synchronized void failed(Throwable t) {
        if (failure == null) {
            failure = t;
        }
    }

    synchronized Throwable failure() {
        return failure;
    }

    /** {@return whether the failure, if any, is the one the path planned} */
    synchronized boolean failedAsPlanned() {
        return failure != null && PlannedFailure.isPlanned(failure);
    }

    /** The program called shutdownOutput() after writing this many bytes (the commitment point). */
    synchronized void shutdownOutputAt(long bytesWritten) {
        shutdownOutputAt = bytesWritten;
    }

    synchronized long shutdownOutputAt() {
        return shutdownOutputAt;
    }

    synchronized void finishResult(FinishResult r) {
        finishResult = r;
    }

    synchronized FinishResult finishResult() {
        return finishResult;
    }

    synchronized void undelivered(UndeliveredException e) {
        undelivered = e;
    }

    synchronized UndeliveredException undelivered() {
        return undelivered;
    }

    synchronized void scopeEndings(Map<TcpConnection, ConnectionEnding> endings) {
        if (scopeEndings == null || scopeEndings.isEmpty()) {
            scopeEndings = Map.copyOf(endings);
        }
    }

    synchronized Map<TcpConnection, ConnectionEnding> scopeEndings() {
        return scopeEndings;
    }

    synchronized void reader(ReadRecord r) {
        reader = r;
    }

    synchronized ReadRecord reader() {
        return reader;
    }

    /** The one read a one-thread program makes after the peer reset. */
    synchronized void probe(ReadRecord r) {
        probe = r;
    }

    synchronized ReadRecord probe() {
        return probe;
    }

    synchronized void writeFailure(Throwable t) {
        writeFailure = t;
    }

    synchronized Throwable writeFailure() {
        return writeFailure;
    }

    /** Whether the program, waiting for the planned reset before its ending, saw it come. */
    synchronized void peerResetSeenBeforeEnding(boolean seen) {
        peerResetSeenBeforeEnding = seen;
    }

    synchronized Boolean peerResetSeenBeforeEnding() {
        return peerResetSeenBeforeEnding;
    }

    synchronized void serverStats(ServerStats stats) {
        serverStats = stats;
    }

    synchronized ServerStats serverStats() {
        return serverStats;
    }

    synchronized void relaySessions(List<Relay.Session> sessions) {
        relaySessions = new ArrayList<>(sessions);
    }

    synchronized List<Relay.Session> relaySessions() {
        return relaySessions;
    }

    /** Something went wrong in the harness or in time (a hang, a leak): always a mismatch. */
    synchronized void harnessProblem(String problem) {
        harnessProblems.add(problem);
    }

    synchronized List<String> harnessProblems() {
        return List.copyOf(harnessProblems);
    }

    /** {@return how the connection ended, as tcpscope recorded it, or {@code null}} */
    synchronized ConnectionEnding ending() {
        return connection == null ? null : connection.ending().orElse(null);
    }

    @Override
    public synchronized String toString() {
        ConnectionEnding e = ending();
        return "program " + (declared ? "declared success" : "did not declare success")
                + (failure != null ? ", failed: " + failure : "")
                + (shutdownOutputAt >= 0 ? ", shutdownOutput() after " + shutdownOutputAt + " bytes" : "")
                + "; ending " + (e == null ? "none" : e.mode() + " \"" + e.reason() + "\" written " + e.bytesWritten()
                        + " result " + e.result())
                + (finishResult != null ? "; finish() returned " + finishResult : "")
                + (undelivered != null ? "; UndeliveredException" : "")
                + (reader != null ? "; reader " + reader : "") + (probe != null ? "; probe read " + probe : "")
                + (writeFailure != null ? "; writer failed: " + writeFailure : "")
                + (serverStats != null ? "; server " + serverStats : "")
                + (relaySessions.isEmpty() ? "" : "; relays " + relaySessions.stream()
                        .map(r -> r == null ? "hung" : r.succeeded() ? "ok" : "failed: " + r.failure()).toList());
    }
}
