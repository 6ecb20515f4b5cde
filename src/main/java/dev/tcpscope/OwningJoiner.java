package dev.tcpscope;

import java.lang.ref.WeakReference;
import java.util.concurrent.StructuredTaskScope.Joiner;
import java.util.concurrent.StructuredTaskScope.Subtask;

/**
 * Wraps the user's {@link Joiner} so that a {@link TcpScope} learns how each subtask ended, and
 * applies the scope's rules as subtasks complete:
 * <ul>
 *   <li>a subtask that ends FAILED aborts at once the connections of its branch and every
 *       connection it wrote to ({@link ScopeLedger#branchFailed});</li>
 *   <li>if the user's Joiner cancels the scope on a FAILED subtask (as
 *       {@code awaitAllSuccessfulOrThrow()} does), the scope has failed: every connection is
 *       aborted at once, which wakes the subtasks blocked on them;</li>
 *   <li>a scope aborted by {@link TcpScope#abort} is cancelled at the next completion;</li>
 *   <li>a subtask that ends in SUCCESS is forgotten at once, so that a long-lived scope that
 *       forks many subtasks holds only those still running.</li>
 * </ul>
 *
 * <p>The JDK keeps the Joiner reachable while the scope is open (its timeout task refers to the
 * scope, which refers to the Joiner), even when the owner has dropped the scope without closing
 * it. This wrapper therefore refers to the scope's ledger only weakly and keeps no subtask: the
 * subtasks that still run keep the ledger reachable themselves, through their branches.
 */
final class OwningJoiner<T, R> implements Joiner<T, R> {

    private final Joiner<? super T, ? extends R> delegate;
    private final WeakReference<ScopeLedger> ledger;
    private ScopeBranch forking; // owner thread only: the branch of the subtask being forked

    OwningJoiner(Joiner<? super T, ? extends R> delegate, ScopeLedger ledger) {
        this.delegate = delegate;
        this.ledger = new WeakReference<>(ledger);
    }

    /** Names the branch of the next {@code onFork}; the owner calls it around {@code fork}. */
    void forking(ScopeBranch branch) {
        this.forking = branch;
    }

    @Override
    public boolean onFork(Subtask<? extends T> subtask) {
        ScopeBranch branch = forking;
        forking = null;
        ScopeLedger l = ledger.get();
        if (branch != null && l != null) {
            branch.succeededWhen(() -> subtask.state() == Subtask.State.SUCCESS);
            l.forked(subtask, branch);
        }
        return delegate.onFork(subtask);
    }

    @Override
    public boolean onComplete(Subtask<? extends T> subtask) {
        boolean cancel = delegate.onComplete(subtask);
        ScopeLedger l = ledger.get();
        if (l == null) {
            return cancel;
        }
        // Judged before it leaves the running set: a finish() racing with this completion (a
        // straggler after join() returned) either sees the verdict or gives its own; one wins.
        ScopeBranch branch = l.running(subtask);
        switch (subtask.state()) {
            case SUCCESS -> {
                if (branch != null) {
                    branch.judge(ScopeBranch.Verdict.SUCCEEDED);
                }
            }
            case FAILED -> {
                Throwable cause = subtask.exception();
                if (cancel) {
                    l.fail("a subtask failed and the Joiner cancelled the scope: " + cause, cause);
                }
                if (branch != null) {
                    l.branchFailed(branch, cause);
                }
            }
            case UNAVAILABLE -> { } // not reported by the JDK: a cancelled subtask does not complete
        }
        l.completed(subtask);
        return cancel || l.failed();
    }

    @Override
    public R result() throws Throwable {
        return delegate.result();
    }
}
