package dev.tcpscope;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.StructuredTaskScope.Joiner;
import java.util.concurrent.StructuredTaskScope.Subtask;

/**
 * Wraps the user's {@link Joiner} so that the {@link TcpScope} knows what its own success means.
 *
 * <p>A Joiner such as {@code awaitAll()} or {@code anySuccessfulResultOrThrow()} lets
 * {@code join()} return normally while subtasks failed or were cancelled mid-write; the
 * connections must not be finished gracefully then. This wrapper remembers every forked subtask
 * until it succeeds, aborts the scope's connections at the first failure (so that the subtasks
 * still blocked on them wake at once), and cancels the scope once the scope has been aborted.
 *
 * <p>Subtasks that succeeded are forgotten at once, so that a long-lived scope (a pool of
 * keep-alive connections) that forks many subtasks holds only those not yet successful.
 */
final class OwningJoiner<T, R> implements Joiner<T, R> {

    private final Joiner<? super T, ? extends R> delegate;
    private final Set<Subtask<? extends T>> notSuccessful = ConcurrentHashMap.newKeySet();
    private volatile TcpScope<?, ?> scope;

    OwningJoiner(Joiner<? super T, ? extends R> delegate) {
        this.delegate = delegate;
    }

    void attach(TcpScope<?, ?> scope) {
        this.scope = scope;
    }

    @Override
    public boolean onFork(Subtask<? extends T> subtask) {
        notSuccessful.add(subtask);
        return delegate.onFork(subtask);
    }

    @Override
    public boolean onComplete(Subtask<? extends T> subtask) {
        boolean cancel = delegate.onComplete(subtask);
        if (subtask.state() == Subtask.State.SUCCESS) {
            notSuccessful.remove(subtask);
        }
        TcpScope<?, ?> s = scope;
        if (subtask.state() == Subtask.State.FAILED && s != null) {
            s.abortConnections("a subtask failed", subtask.exception());
        }
        return cancel || (s != null && s.isAborted());
    }

    @Override
    public R result() throws Throwable {
        return delegate.result();
    }

    /** {@return a forked subtask that did not end in SUCCESS (failed, or cancelled unfinished), or null} */
    Subtask<? extends T> firstUnsuccessful() {
        for (Subtask<? extends T> subtask : notSuccessful) {
            if (subtask.state() != Subtask.State.SUCCESS) {
                return subtask;
            }
        }
        return null;
    }
}
