package dev.tcpscope;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.StructuredTaskScope.Joiner;
import java.util.concurrent.StructuredTaskScope.Subtask;

/**
 * Wraps the user's {@link Joiner} so that the {@link TcpScope} knows what its own success means.
 *
 * <p>A Joiner such as {@code awaitAll()} or {@code anySuccessfulResultOrThrow()} lets
 * {@code join()} return normally while subtasks failed or were cancelled mid-write; the
 * connections must not be finished gracefully then. This wrapper remembers every forked subtask,
 * aborts the scope's connections at the first failure (so that the subtasks still blocked on
 * them wake at once), and cancels the scope once the scope has been aborted.
 */
final class OwningJoiner<T, R> implements Joiner<T, R> {

    private final Joiner<? super T, ? extends R> delegate;
    private final List<Subtask<? extends T>> forked = new CopyOnWriteArrayList<>();
    private volatile TcpScope<?, ?> scope;

    OwningJoiner(Joiner<? super T, ? extends R> delegate) {
        this.delegate = delegate;
    }

    void attach(TcpScope<?, ?> scope) {
        this.scope = scope;
    }

    @Override
    public boolean onFork(Subtask<? extends T> subtask) {
        forked.add(subtask);
        return delegate.onFork(subtask);
    }

    @Override
    public boolean onComplete(Subtask<? extends T> subtask) {
        boolean cancel = delegate.onComplete(subtask);
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

    /** {@return the first forked subtask that did not end in SUCCESS, or null} */
    Subtask<? extends T> firstUnsuccessful() {
        for (Subtask<? extends T> subtask : forked) {
            if (subtask.state() != Subtask.State.SUCCESS) {
                return subtask;
            }
        }
        return null;
    }
}
