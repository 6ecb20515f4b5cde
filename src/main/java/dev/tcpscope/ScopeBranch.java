package dev.tcpscope;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;

/**
 * One branch of a {@link TcpScope}'s work: the scope itself (its owner thread), or one forked
 * subtask, together with the threads of scopes nested in that subtask. A branch answers two
 * questions when its subtask ends: which connections were opened in it ({@link ScopeLedger}
 * records the branch of each), and which connections it wrote to — a subtask that does not
 * succeed leaves their peers holding part of a message, so they must be aborted.
 *
 * <p>The branch of the current thread is {@link #CURRENT}, bound by the wrapper that
 * {@link TcpScope#fork} puts around every subtask. Subtask threads of a plain
 * {@code StructuredTaskScope} opened inside a subtask inherit the binding, so their writes count
 * for that subtask; a {@code TcpScope} nested in a subtask binds branches of its own, whose
 * {@linkplain #parent parent} is the subtask's branch, and a write is recorded in the branch and
 * every ancestor.
 *
 * <p>The write hook, {@link #noteWrite}, runs on every send of every connection: it costs one
 * scoped-value lookup and a field compare unless the thread writes to another connection than
 * the one it wrote to last.
 *
 * <p>This class uses no preview API: {@link TcpConnection} calls it, and it loads without
 * {@code --enable-preview}.
 */
final class ScopeBranch {

    /** The subtask branch of the current thread; unbound outside the subtasks of TcpScopes. */
    static final ScopedValue<ScopeBranch> CURRENT = ScopedValue.newInstance();

    /** What became of a branch; moves once from PENDING. */
    enum Verdict {
        /** Still running, or the scope's own branch. */
        PENDING,
        /** Its subtask ended in SUCCESS: its connections are the scope's to finish. */
        SUCCEEDED,
        /** Its subtask ended FAILED: its connections and those it wrote to were aborted at once. */
        FAILED,
        /** Cancelled or unfinished when join() returned (a loser): aborted by finish() or close(). */
        SET_ASIDE;

        boolean taints() {
            return this == FAILED || this == SET_ASIDE;
        }
    }

    /** A branch is first pruned of ended connections once it holds this many. */
    private static final int PRUNE_AT = 64;
    private static final ScopeBranch NONE = new ScopeBranch(null, null, "none");

    final ScopeLedger ledger;
    final ScopeBranch parent;
    private final String name; // null for a scope's own branch: see toString
    private BooleanSupplier succeeded;                                        // set once, before the subtask runs
    private Verdict verdict = Verdict.PENDING;                                // guarded by this
    private Set<TcpConnection> written; // guarded by this; made on the first write (a scope's own branch has none)
    private int pruneAt = PRUNE_AT;                                           // guarded by this
    private TcpConnection lastWritten; // a hint, written racily: a value seen here is already in `written`

    ScopeBranch(ScopeLedger ledger, ScopeBranch parent, String name) {
        this.ledger = ledger;
        this.parent = parent;
        this.name = name;
    }

    /** {@return the branch of the calling thread, or null outside every TcpScope subtask} */
    static ScopeBranch current() {
        ScopeBranch b = CURRENT.orElse(NONE);
        return b == NONE ? null : b;
    }

    /**
     * The write hook, called by {@link TcpConnection} before each send: records that the calling
     * thread's branch (and its ancestors) wrote to {@code connection}. A branch already judged
     * not to have succeeded (a straggler still running after it was set aside) aborts the
     * connection here, before the bytes go out.
     */
    static void noteWrite(TcpConnection connection) {
        ScopeBranch b = CURRENT.orElse(NONE);
        if (b != NONE && b.lastWritten != connection) {
            b.wrote(connection);
        }
    }

    private void wrote(TcpConnection connection) {
        for (ScopeBranch b = this; b != null; b = b.parent) {
            b.record(connection);
        }
        lastWritten = connection;
    }

    private void record(TcpConnection connection) {
        Verdict v;
        synchronized (this) {
            if (written == null) {
                written = Collections.newSetFromMap(new IdentityHashMap<>());
            } else if (written.size() >= pruneAt) {
                written.removeIf(c -> !c.isOpen()); // an ended connection cannot be tainted any more
                pruneAt = Math.max(PRUNE_AT, 2 * written.size()); // amortised: many open ones stay
            }
            written.add(connection);
            v = verdict;
        }
        if (v.taints()) {
            ScopeLedger.taint(connection, "written to by " + this + " after it " + describe(v), null);
        }
    }

    /** {@return {@code task} running in this branch: what the scope forks} */
    <U> Callable<U> around(Callable<? extends U> task) {
        return () -> ScopedValue.where(CURRENT, this).<U, Exception>call(task::call);
    }

    /** Ties the branch to its subtask's outcome; called once, when the subtask is forked. */
    void succeededWhen(BooleanSupplier succeeded) {
        this.succeeded = succeeded;
    }

    /** {@return whether the branch's subtask has ended in SUCCESS (the scope's own branch: always)} */
    boolean subtaskSucceeded() {
        BooleanSupplier s = succeeded;
        return s == null || s.getAsBoolean();
    }

    /**
     * Gives the branch its verdict, once.
     *
     * @return the connections it wrote to, which a tainting verdict must abort; null if the
     *         branch had a verdict already
     */
    List<TcpConnection> judge(Verdict v) {
        synchronized (this) {
            if (verdict != Verdict.PENDING) {
                return null;
            }
            verdict = v;
            return written == null ? new ArrayList<>() : new ArrayList<>(written);
        }
    }

    synchronized Verdict verdict() {
        return verdict;
    }

    static String describe(Verdict v) {
        return switch (v) {
            case PENDING -> "is running";
            case SUCCEEDED -> "succeeded";
            case FAILED -> "failed";
            case SET_ASIDE -> "was set aside (cancelled or unfinished when join() returned)";
        };
    }

    @Override
    public String toString() {
        return name != null ? name : "scope of thread #" + ledger.ownerThreadId;
    }
}
