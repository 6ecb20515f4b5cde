package dev.tcpscope;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a {@link TcpScope} owns: its connections, the branch each belongs to, the branches of its
 * subtasks still running, and whether the scope has failed. Each connection's
 * {@code TcpConnection.owner} points here, not at the {@code TcpScope}: the subtasks and the
 * JDK's structures may keep this ledger reachable, but nothing the owner thread keeps refers to
 * it, so a scope dropped without {@code close()} lets its connections become unreachable and
 * their Cleaner backstop abort them.
 *
 * <p>Locking: every field below is guarded by {@code this}; connections are aborted outside the
 * lock (an abort may wait for another ending).
 *
 * <p>No preview API is used here ({@link ScopeBranch} calls it from the write hook).
 */
final class ScopeLedger {

    /** The life of the scope as its connections see it; only moves forward. */
    enum Phase {
        /** Connections may be taken. */
        OPEN,
        /** finish() is ending the connections: none may be taken. */
        FINISHING,
        /** finish() or close() is done with the connections. */
        ENDED
    }

    final ScopeBranch own;
    private final Map<TcpConnection, ScopeBranch> owned = new LinkedHashMap<>(2); // most scopes own one
    /** Made on the first abort (guarded by this): most scopes abort none. */
    private Set<TcpConnection> abortedByScope;
    /**
     * Subtasks (the JDK's Subtask objects, kept as Object: no preview type here) not yet
     * complete; made on the first fork (a server's handler scope that never forks has none).
     */
    private volatile Map<Object, ScopeBranch> running;
    private Phase phase = Phase.OPEN;
    private String failure;
    private Throwable failureCause;
    private int branches;

    /** The id of the scope's owner thread: the scope's name, made only when printed. */
    final long ownerThreadId;

    ScopeLedger(long ownerThreadId) {
        this.ownerThreadId = ownerThreadId;
        this.own = new ScopeBranch(this, null, null);
    }

    // ---------------------------------------------------------------- branches

    /** {@return a new branch for a subtask about to be forked by a thread whose branch is {@code parent}} */
    ScopeBranch newBranch(ScopeBranch parent) {
        int n;
        synchronized (this) {
            n = ++branches;
        }
        return new ScopeBranch(this, parent, "subtask " + n + " of " + own);
    }

    /**
     * {@return the branch the calling thread works in for this scope: the scope's own for its
     * owner, else the nearest of the caller's branches that is one of this scope's subtasks}
     *
     * @throws WrongThreadException the caller is neither the owner nor in one of its subtasks
     */
    ScopeBranch branchOfCaller(Thread owner, String operation) {
        if (Thread.currentThread() == owner) {
            return own;
        }
        for (ScopeBranch b = ScopeBranch.current(); b != null; b = b.parent) {
            if (b.ledger == this) {
                return b;
            }
        }
        throw new WrongThreadException(operation + ": only the scope's owner thread (" + owner
                + ") and the threads of its subtasks may do this; the caller is " + Thread.currentThread());
    }

    void forked(Object subtask, ScopeBranch branch) {
        Map<Object, ScopeBranch> r = running;
        if (r == null) {
            synchronized (this) {
                r = running;
                if (r == null) {
                    running = r = new ConcurrentHashMap<>();
                }
            }
        }
        r.put(subtask, branch);
    }

    /** {@return the branch of a subtask still running, or null} */
    ScopeBranch running(Object subtask) {
        Map<Object, ScopeBranch> r = running;
        return r == null ? null : r.get(subtask);
    }

    /** Forgets a subtask that completed (its branch has its verdict). */
    void completed(Object subtask) {
        Map<Object, ScopeBranch> r = running;
        if (r != null) {
            r.remove(subtask);
        }
    }

    /**
     * A subtask ended FAILED: aborts at once the connections of its branch (not a failure of
     * the scope: a race's loser, or work an {@code awaitAll()} Joiner tolerates) and every
     * connection it wrote to (its peer holds part of a message from failed work).
     */
    void branchFailed(ScopeBranch branch, Throwable cause) {
        abortBranch(branch, ScopeBranch.Verdict.FAILED, branch + " failed: " + cause, cause);
    }

    /**
     * Sets aside every branch still running when join() returned (cancelled or unfinished). A
     * branch judged meanwhile by its own completion keeps that verdict ({@link ScopeBranch#judge}
     * gives one verdict only).
     */
    void setAsideRunning() {
        Map<Object, ScopeBranch> running = this.running;
        if (running == null) {
            return; // nothing was forked
        }
        for (Map.Entry<Object, ScopeBranch> e : List.copyOf(running.entrySet())) {
            ScopeBranch branch = e.getValue();
            if (branch.subtaskSucceeded()) {
                branch.judge(ScopeBranch.Verdict.SUCCEEDED); // completed just as join() returned
            } else {
                abortBranch(branch, ScopeBranch.Verdict.SET_ASIDE,
                        branch + " " + ScopeBranch.describe(ScopeBranch.Verdict.SET_ASIDE), null);
            }
            running.remove(e.getKey());
        }
    }

    private void abortBranch(ScopeBranch branch, ScopeBranch.Verdict verdict, String reason, Throwable cause) {
        List<TcpConnection> written = branch.judge(verdict);
        if (written == null) {
            return;
        }
        for (TcpConnection c : ownedBy(branch)) {
            abortOwned(c, reason, cause);
        }
        for (TcpConnection c : written) {
            taint(c, "written to by " + branch + ", which " + ScopeBranch.describe(verdict)
                    + (cause == null ? "" : ": " + cause), cause);
        }
    }

    /**
     * Aborts {@code connection} because work that did not succeed wrote to it, and marks it in
     * the ledger of the scope that owns it, whichever that is: that scope's finish() reports it.
     */
    static void taint(TcpConnection connection, String reason, Throwable cause) {
        if (connection.owner.get() instanceof ScopeLedger ledger) {
            ledger.abortOwned(connection, reason, cause);
        } else {
            connection.abort(reason, cause);
        }
    }

    private void abortOwned(TcpConnection connection, String reason, Throwable cause) {
        synchronized (this) {
            if (connection.isOpen() && connection.owner.get() == this) {
                if (abortedByScope == null) {
                    abortedByScope = Collections.newSetFromMap(new IdentityHashMap<>());
                }
                abortedByScope.add(connection);
            }
        }
        connection.abort(reason, cause);
    }

    // ---------------------------------------------------------------- connections

    /**
     * Takes ownership of a connection for {@code branch}.
     *
     * @throws IllegalStateException another scope owns it; or the scope is finishing or ended
     *                               (then the connection, if it was new, is aborted)
     */
    void take(TcpConnection connection, ScopeBranch branch, String operation, boolean abortIfRefused) {
        String refusal = null;
        String abortReason = null;
        synchronized (this) {
            if (phase != Phase.OPEN) {
                refusal = operation + ": the scope has " + (phase == Phase.FINISHING ? "begun to finish" : "ended")
                        + "; it takes no more connections";
            } else if (!connection.owner.compareAndSet(null, this)) {
                throw new IllegalStateException(operation + ": " + connection + " already belongs to a scope;"
                        + " use transfer() to move it");
            } else {
                owned.put(connection, branch);
            }
            if (refusal == null && failure != null) {
                abortReason = operation + " into a scope that had failed: " + failure;
            } else if (refusal == null && branch.verdict().taints()) {
                abortReason = operation + " by " + branch + ", which " + ScopeBranch.describe(branch.verdict());
            }
        }
        if (refusal != null) {
            if (abortIfRefused) {
                connection.abort(refusal, null);
            }
            throw new IllegalStateException(refusal);
        }
        if (abortReason != null) {
            // The scope failed (or the branch lost) meanwhile: the outcome applies to it at once.
            abortOwned(connection, abortReason, failureCause());
        }
    }

    /** Throws {@link IllegalStateException} unless the scope still takes connections. */
    void checkTakes(String operation) {
        Phase p = phase();
        if (p != Phase.OPEN) {
            throw new IllegalStateException(operation + ": the scope has " + (p == Phase.FINISHING
                    ? "begun to finish" : "ended (finish() or close())") + "; it takes no more connections");
        }
    }

    /** Moves {@code connection} from {@code from} to this ledger's own branch. */
    void receive(TcpConnection connection, ScopeLedger from) {
        boolean abortNow;
        synchronized (this) {
            if (phase != Phase.OPEN) {
                throw new IllegalStateException("transfer: the target scope has "
                        + (phase == Phase.FINISHING ? "begun to finish" : "ended") + "; it takes no more connections");
            }
            if (!connection.owner.compareAndSet(from, this)) {
                throw new IllegalStateException("transfer: " + connection + " does not belong to this scope");
            }
            owned.put(connection, own);
            abortNow = failure != null;
        }
        from.release(connection);
        if (abortNow) {
            abortOwned(connection, "transferred to a scope that was already failing: " + failureReason(), failureCause());
        }
    }

    private synchronized void release(TcpConnection connection) {
        owned.remove(connection);
        if (abortedByScope != null) {
            abortedByScope.remove(connection);
        }
    }

    synchronized boolean owns(TcpConnection connection) {
        return connection.owner.get() == this && owned.containsKey(connection);
    }

    private synchronized List<TcpConnection> ownedBy(ScopeBranch branch) {
        List<TcpConnection> list = new ArrayList<>();
        owned.forEach((c, b) -> {
            if (b == branch) {
                list.add(c);
            }
        });
        return list;
    }

    /** {@return the connections finish() ends gracefully: of the scope's own branch and of branches that succeeded} */
    synchronized List<TcpConnection> responsible() {
        List<TcpConnection> list = new ArrayList<>();
        owned.forEach((c, b) -> {
            if (!b.verdict().taints()) {
                list.add(c);
            }
        });
        return list;
    }

    /** {@return whether a scope (this one or another, through a tainting write) aborted it} */
    synchronized boolean abortedByScope(TcpConnection connection) {
        return abortedByScope != null && abortedByScope.contains(connection);
    }

    // ---------------------------------------------------------------- the scope's outcome

    /**
     * Marks the scope failed (the first reason wins) and aborts every connection it owns: their
     * peers get RST at once and subtasks blocked on them wake. {@code reason} becomes the
     * connections' ending reason, so it says what happened to the scope.
     */
    void fail(String reason, Throwable cause) {
        synchronized (this) {
            if (failure == null) {
                failure = reason;
                failureCause = cause;
            }
        }
        for (TcpConnection c : snapshot()) {
            abortOwned(c, reason, cause);
        }
    }

    synchronized boolean failed() {
        return failure != null;
    }

    synchronized String failureReason() {
        return failure;
    }

    synchronized Throwable failureCause() {
        return failureCause;
    }

    /** Moves the phase forward (never back). */
    synchronized void advance(Phase next) {
        if (next.compareTo(phase) > 0) {
            phase = next;
        }
    }

    synchronized Phase phase() {
        return phase;
    }

    private synchronized List<TcpConnection> snapshot() {
        return new ArrayList<>(owned.keySet());
    }

    /** {@return how each owned connection that has ended ended, in the order the scope took them} */
    Map<TcpConnection, ConnectionEnding> endings() {
        Map<TcpConnection, ConnectionEnding> endings = new LinkedHashMap<>();
        for (TcpConnection c : snapshot()) {
            c.ending().ifPresent(e -> endings.put(c, e));
        }
        return Collections.unmodifiableMap(endings);
    }

    synchronized int size() {
        return owned.size();
    }
}
