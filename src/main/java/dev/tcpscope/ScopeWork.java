package dev.tcpscope;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.StructuredTaskScope.Joiner;
import java.util.concurrent.StructuredTaskScope.Subtask;
import java.util.concurrent.ThreadFactory;
import java.util.function.Function;

/**
 * The structured work of one {@link TcpScope} and the owner's steps on it: the
 * {@link StructuredTaskScope} with its {@link OwningJoiner}, the scope's place among nested
 * scopes ({@link ScopeNesting}), and fork, join, finish and close in the order
 * {@link ScopeOutcome} allows, each failing the scope's {@link ScopeLedger} where the step
 * says so. {@code TcpScope} checks the owner thread and delegates here.
 *
 * <p>This class uses StructuredTaskScope, a preview API of JDK 25, and is marked as
 * {@code TcpScope} is (README, "Java versions").
 */
final class ScopeWork<T, R> {

    private static final ThreadFactory SUBTASK_THREADS = Thread.ofVirtual().factory();

    private final ScopeLedger ledger;
    private final ScopeOutcome outcome = new ScopeOutcome(); // owner thread only
    private final OwningJoiner<T, R> joiner;
    private final StructuredTaskScope<T, R> tasks;
    private final ScopeNesting nesting;

    ScopeWork(ScopeLedger ledger, Joiner<? super T, ? extends R> joiner,
              Function<StructuredTaskScope.Configuration, StructuredTaskScope.Configuration> configuration) {
        this.ledger = ledger;
        this.joiner = new OwningJoiner<>(joiner, ledger);
        // The JDK's default configuration makes a thread factory per scope; the same factory,
        // shared, behaves identically (unnamed virtual threads; stateless, thread-safe) and saves
        // a server 40 bytes per connection. A configuration that sets a factory still wins.
        this.tasks = StructuredTaskScope.open(this.joiner,
                cf -> configuration.apply(cf.withThreadFactory(SUBTASK_THREADS)));
        this.nesting = ScopeNesting.enter(ledger);
    }

    /** The body of {@link TcpScope#fork(Callable)}: a subtask in a branch of its own. */
    <U extends T> Subtask<U> fork(Callable<? extends U> task) {
        if (outcome.finished() || outcome.closed()) {
            throw new IllegalStateException("fork: the scope has " + outcome);
        }
        ScopeBranch branch = ledger.newBranch(ScopeBranch.current());
        joiner.forking(branch);
        try {
            return tasks.fork(branch.<U>around(task));
        } finally {
            joiner.forking(null);
        }
    }

    /** The body of {@link TcpScope#join()}: a join that does not return normally fails the scope. */
    R join() throws InterruptedException {
        if (outcome.joinCalled() || outcome.closed()) {
            return tasks.join(); // the JDK refuses a second join, or a join after close
        }
        try {
            R result = tasks.join();
            outcome.joinReturned();
            return result;
        } catch (Throwable e) {
            outcome.joinThrew(e);
            ledger.fail("the scope's join() did not return normally: " + e, e);
            throw e;
        }
    }

    /** {@return whether the owner called {@code join()}} */
    boolean joinCalled() {
        return outcome.joinCalled();
    }

    /** The body of {@link TcpScope#finish()}: every graceful ending within {@code finishTimeout}. */
    void finish(Duration finishTimeout) {
        if (outcome.repeatFinish()) {
            return;
        }
        outcome.checkFinishAllowed(ledger);
        UndeliveredException undelivered;
        try {
            undelivered = ScopeFinish.run(ledger, finishTimeout);
        } catch (RuntimeException | Error e) {
            ledger.fail("the scope's finish() failed: " + e, e);
            throw e;
        }
        outcome.finished(undelivered);
        if (undelivered != null) {
            throw undelivered;
        }
    }

    /** The body of {@link TcpScope#close()}: aborts unless finished, then closes the task scope. */
    void close() {
        if (outcome.closed()) {
            return;
        }
        outcome.closing();
        try {
            boolean violation = nesting.failNested(); // wakes their subtasks, which the JDK's close waits for
            if (!outcome.finished()) {
                ledger.fail(violation ? "closed before the scopes nested in it (structure violation)"
                        : outcome.closeReason(), outcome.joinFailure());
            }
            ledger.advance(ScopeLedger.Phase.ENDED);
            tasks.close();
        } finally {
            nesting.leave();
        }
    }

    /** {@return the outcome so far, for {@link TcpScope#toString()}} */
    @Override
    public String toString() {
        return outcome.toString();
    }
}
