package dev.tcpscope;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.StructuredTaskScope.Configuration;
import java.util.concurrent.StructuredTaskScope.Joiner;
import java.util.concurrent.StructuredTaskScope.Subtask;
import java.util.function.Function;

/**
 * A {@link StructuredTaskScope} that owns TCP connections and ends them by the outcome of its
 * work: when the work succeeds, every owned connection ends gracefully (FIN after every byte was
 * acknowledged); on any other way out, every one is aborted and its peer receives RST.
 *
 * {@snippet :
 * try (var scope = TcpScope.open()) {
 *     TcpConnection conn = scope.connect(address);
 *     var reply = scope.fork(() -> readReply(conn));
 *     scope.fork(() -> { writeRequest(conn); return null; });
 *     scope.join();
 *     use(reply.get());
 * }   // success: every connection finished; anything else: every connection aborted
 * }
 *
 * <p><b>Success</b> means all of: {@link #join()} returned normally; every forked subtask ended in
 * {@code SUCCESS} (whatever the Joiner decided: with {@code awaitAll()} or
 * {@code anySuccessfulResultOrThrow()} a failed or cancelled subtask still counts as failure);
 * nobody called {@link #abort}; and no owned connection was poisoned by a failed write.
 * Anything else aborts: a subtask failure (at once, which wakes the other subtasks blocked on
 * the connections), the scope's timeout, the owner interrupted, an exception before
 * {@code join()}, {@code close()} without {@code join()}.
 *
 * <p><b>An exception after {@code join()}</b> is invisible to {@code close()} (Java's
 * try-with-resources does not tell it): call {@link #abort(Throwable)} on such paths, or use
 * the lambda form {@link #call}, which sees the body's exception directly.
 *
 * <p><b>Finishing.</b> On success, {@code close()} finishes every connection concurrently, all
 * within the finish timeout ({@link TcpConnection#DEFAULT_FINISH_TIMEOUT} unless
 * {@link #finishTimeout(Duration)} says otherwise), which starts when the work is done and is not
 * part of the scope's own timeout: one bounds the work, the other the delivery. A connection
 * whose bytes were not all acknowledged by then is aborted, and {@code close()} throws
 * {@link UndeliveredException}: the exchange did not complete. {@link #endings()} tells how each
 * connection ended.
 *
 * <p><b>Ownership.</b> A connection belongs to one scope at a time: the one that connected it or
 * {@linkplain #adopt adopted} it, until it is {@linkplain #transfer transferred} to another.
 *
 * <p>Only the owner thread forks, joins, adopts, transfers and closes; scopes close in nesting
 * order; nothing can be forked after {@code join()} (the rules of {@link StructuredTaskScope},
 * a preview API of JDK 25, which this class keeps out of every other class).
 *
 * @param <T> result type of the subtasks
 * @param <R> result type of {@link #join()}
 */
public final class TcpScope<T, R> implements AutoCloseable {

    /** The body of the lambda form: runs in the scope with its connection. */
    @FunctionalInterface
    public interface Body<V> {
        /**
         * Does the work.
         *
         * @param scope      the scope, to fork subtasks (joined for you if you did not)
         * @param connection the connection the scope opened
         * @return the result of {@link #call}
         * @throws Exception anything: the connection is then aborted
         */
        V run(TcpScope<Object, Void> scope, TcpConnection connection) throws Exception;
    }

    /**
     * The innermost open scope of each owner thread, so that closing a scope before the scopes
     * nested in it can abort theirs first: the JDK then closes the nested scopes by waiting for
     * their subtasks, which would wait forever on subtasks blocked on their connections.
     */
    private static final ThreadLocal<TcpScope<?, ?>> INNERMOST = new ThreadLocal<>();

    private final StructuredTaskScope<T, R> tasks;
    private final OwningJoiner<T, R> joiner;
    private final Thread ownerThread = Thread.currentThread();
    private final TcpScope<?, ?> enclosing; // the owner's innermost open scope when this one opened
    private final List<TcpConnection> connections = new CopyOnWriteArrayList<>();
    private final Map<TcpConnection, ConnectionEnding> endings = Collections.synchronizedMap(new LinkedHashMap<>());
    private volatile Throwable abortCause;
    private volatile String abortReason;
    private volatile Duration finishTimeout = TcpConnection.DEFAULT_FINISH_TIMEOUT;
    private boolean joined;          // owner thread only
    private boolean joinedNormally;  // owner thread only
    private volatile boolean closing;

    private TcpScope(OwningJoiner<T, R> joiner, Function<Configuration, Configuration> configuration) {
        this.joiner = joiner;
        this.tasks = StructuredTaskScope.open(joiner, configuration);
        this.enclosing = INNERMOST.get();
        INNERMOST.set(this);
        joiner.attach(this);
    }

    /** Opens a scope whose {@code join()} waits for all subtasks and fails on the first failure. */
    public static TcpScope<Object, Void> open() {
        return open(Joiner.awaitAllSuccessfulOrThrow());
    }

    /** Opens a scope with {@code timeout} on its work; see {@link #open(Joiner, Function)}. */
    public static TcpScope<Object, Void> open(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        return open(Joiner.awaitAllSuccessfulOrThrow(), cf -> cf.withTimeout(timeout));
    }

    /** Opens a scope with {@code joiner}; see {@link #open(Joiner, Function)}. */
    public static <T, R> TcpScope<T, R> open(Joiner<? super T, ? extends R> joiner) {
        return open(joiner, Function.identity());
    }

    /**
     * Opens a scope with {@code joiner} and a configuration of the underlying
     * {@link StructuredTaskScope} (timeout, name, thread factory). The calling thread becomes
     * the owner.
     */
    public static <T, R> TcpScope<T, R> open(Joiner<? super T, ? extends R> joiner,
                                             Function<Configuration, Configuration> configuration) {
        Objects.requireNonNull(joiner, "joiner");
        Objects.requireNonNull(configuration, "configuration");
        return new TcpScope<>(new OwningJoiner<>(joiner), configuration);
    }

    /**
     * The lambda form: connects to {@code address}, runs {@code body} in a new scope and ends
     * the connection by the body's outcome: graceful if it returned normally (and the scope
     * succeeded), aborted if it threw anything, before or after {@code join()}.
     *
     * @return what the body returned
     * @throws UndeliveredException the body succeeded but the peer did not acknowledge everything
     * @throws Exception            whatever the body threw, after the connection was aborted
     */
    public static <V> V call(InetSocketAddress address, Body<V> body) throws Exception {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(body, "body");
        try (TcpScope<Object, Void> scope = TcpScope.open()) {
            TcpConnection connection = scope.connect(address);
            try {
                V value = body.run(scope, connection);
                if (!scope.joined) {
                    scope.join();
                }
                return value;
            } catch (Throwable t) {
                scope.abort("the body threw " + t, t);
                throw t;
            }
        }
    }

    // ---------------------------------------------------------------- connections

    /** Connects to {@code address} with the default timeout; the scope owns the connection. */
    public TcpConnection connect(InetSocketAddress address) throws IOException {
        return connect(address, TcpConnection.DEFAULT_CONNECT_TIMEOUT);
    }

    /** Connects to {@code address} within {@code timeout}; the scope owns the connection. */
    public TcpConnection connect(InetSocketAddress address, Duration timeout) throws IOException {
        checkOpen("connect");
        TcpConnection connection = TcpConnection.connect(address, timeout);
        try {
            adopt(connection, "connect");
        } catch (RuntimeException e) {
            connection.abort("scope closed while connecting", e);
            throw e;
        }
        return connection;
    }

    /**
     * Takes ownership of {@code connection} (for example one accepted from a {@link TcpListener}):
     * from now on the scope's outcome decides its ending.
     *
     * @throws IllegalStateException if another scope owns it, or this scope is closing
     */
    public TcpConnection adopt(TcpConnection connection) {
        Objects.requireNonNull(connection, "connection");
        checkOwner("adopt");
        checkOpen("adopt");
        adopt(connection, "adopt");
        return connection;
    }

    private void adopt(TcpConnection connection, String operation) {
        if (!connection.owner.compareAndSet(null, this)) {
            throw new IllegalStateException(operation + ": " + connection + " already belongs to a scope;"
                    + " use transfer() to move it");
        }
        connections.add(connection);
        if (closing || isAborted()) {
            // Lost a race with close() or abort(): the connection must not escape the outcome.
            connection.abort("adopted by a scope that was already ending", abortCause);
        }
    }

    /**
     * Moves {@code connection} from this scope to {@code target} (for example a longer-lived
     * pool scope for keep-alive clients): this scope's outcome no longer touches it.
     *
     * @throws IllegalStateException if this scope does not own it, or either scope is closing
     */
    public void transfer(TcpConnection connection, TcpScope<?, ?> target) {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(target, "target");
        checkOwner("transfer");
        checkOpen("transfer");
        target.checkOpen("transfer");
        if (!connection.owner.compareAndSet(this, target)) {
            throw new IllegalStateException("transfer: " + connection + " does not belong to this scope");
        }
        connections.remove(connection);
        target.connections.add(connection);
        if (target.closing || target.isAborted()) {
            // Lost a race with the target's close() or abort() (another owner thread): the
            // connection must not escape the target's outcome, as in adopt().
            connection.abort("transferred to a scope that was already ending", target.abortCause);
        }
    }

    // ---------------------------------------------------------------- structured work

    /** Forks a subtask in a virtual thread; see {@link StructuredTaskScope#fork(Callable)}. */
    public <U extends T> Subtask<U> fork(Callable<? extends U> task) {
        return tasks.fork(task);
    }

    /** Forks a subtask in a virtual thread; see {@link StructuredTaskScope#fork(Runnable)}. */
    public <U extends T> Subtask<U> fork(Runnable task) {
        return tasks.fork(task);
    }

    /**
     * Waits for the subtasks as the Joiner decides; see {@link StructuredTaskScope#join()}.
     *
     * @throws StructuredTaskScope.FailedException  a subtask failed (the connections are aborted)
     * @throws StructuredTaskScope.TimeoutException the scope's timeout passed
     * @throws InterruptedException                 the owner was interrupted
     */
    public R join() throws InterruptedException {
        checkOwner("join");
        joined = true;
        R result = tasks.join();
        joinedNormally = true;
        return result;
    }

    /**
     * Aborts every connection of the scope now (their peers receive RST, subtasks blocked on them
     * wake) and marks the scope failed: {@code close()} will abort, never finish. Any thread may
     * call it.
     */
    public void abort(Throwable cause) {
        abort(cause == null ? "scope.abort()" : "scope.abort(" + cause + ")", cause);
    }

    private void abort(String reason, Throwable cause) {
        abortConnections(reason, cause);
    }

    /** {@return whether join() was called (the owner thread's view)} */
    boolean joined() {
        return joined;
    }

    boolean isAborted() {
        return abortReason != null;
    }

    void abortConnections(String reason, Throwable cause) {
        synchronized (this) {
            if (abortReason == null) {
                abortCause = cause;
                abortReason = reason;
            }
        }
        for (TcpConnection connection : connections) {
            if (connection.owner.get() == this) {
                connection.abort("scope aborted: " + reason, cause);
            }
        }
    }

    // ---------------------------------------------------------------- ending

    /**
     * Sets how long the graceful endings may take on success (default
     * {@link TcpConnection#DEFAULT_FINISH_TIMEOUT}), counted from {@code close()}.
     */
    public TcpScope<T, R> finishTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("finish timeout must be positive: " + timeout);
        }
        this.finishTimeout = timeout;
        return this;
    }

    /**
     * Ends the scope: on success finishes every owned connection, otherwise aborts every one,
     * then closes the underlying {@link StructuredTaskScope}. Aborting comes first, so subtasks
     * blocked in I/O wake at once and this returns promptly.
     *
     * <p>Closing a scope while scopes nested in it (opened later by the same thread) are still
     * open is a structure violation: the connections of the nested scopes and of this one are
     * aborted, then the JDK closes the nested scopes and throws.
     *
     * @throws UndeliveredException  the work succeeded but some connection's bytes were not acknowledged
     * @throws IllegalStateException the owner forked but never joined (after the connections were aborted)
     * @throws java.util.concurrent.StructureViolationException scopes nested in this one are still
     *                               open (after the connections of all of them were aborted)
     * @throws WrongThreadException  not called by the owner
     */
    @Override
    public void close() {
        checkOwner("close");
        if (closing) {
            return;
        }
        closing = true;
        try {
            List<TcpScope<?, ?>> nested = openScopesNestedInThis();
            for (TcpScope<?, ?> scope : nested) {
                // Wakes their subtasks blocked on connections, which the JDK's forced close of
                // the nested scopes waits for.
                scope.abortConnections("an enclosing scope was closed first (structure violation)", null);
            }
            String failure = nested.isEmpty() ? failure() : "closed before the scopes nested in it (structure violation)";
            if (failure != null) {
                abort(failure, abortCause);
                try {
                    tasks.close();
                } finally {
                    collectEndings();
                }
                return;
            }
            try {
                tasks.close();
            } catch (RuntimeException | Error e) {
                // Not a success after all: never leave the connections open.
                abort("closing the structured task scope failed: " + e, e);
                collectEndings();
                throw e;
            }
            finishAll();
        } finally {
            leaveOwnerThread();
        }
    }

    /** {@return the owner's open scopes nested in this one, innermost first} */
    private List<TcpScope<?, ?>> openScopesNestedInThis() {
        List<TcpScope<?, ?>> nested = new ArrayList<>();
        for (TcpScope<?, ?> scope = INNERMOST.get(); scope != null; scope = scope.enclosing) {
            if (scope == this) {
                return nested;
            }
            if (!scope.closing) {
                nested.add(scope);
            }
        }
        return List.of(); // this scope was already left, by an enclosing scope closed before it
    }

    /** Removes this scope, and any nested in it, from the owner thread's nesting. */
    private void leaveOwnerThread() {
        for (TcpScope<?, ?> scope = INNERMOST.get(); scope != null; scope = scope.enclosing) {
            if (scope == this) {
                TcpScope<?, ?> open = enclosing;
                while (open != null && open.closing) {
                    open = open.enclosing;
                }
                if (open == null) {
                    INNERMOST.remove();
                } else {
                    INNERMOST.set(open);
                }
                return;
            }
        }
    }

    /** {@return why the scope is not a success, or null if it is} */
    private String failure() {
        if (abortReason != null) {
            return abortReason;
        }
        if (!joined) {
            return "closed without join()";
        }
        if (!joinedNormally) {
            return "join() did not return normally (failure, timeout or interrupt)";
        }
        Subtask<?> unsuccessful = joiner.firstUnsuccessful();
        if (unsuccessful != null) {
            return "a subtask ended in " + unsuccessful.state();
        }
        for (TcpConnection connection : connections) {
            if (connection.owner.get() == this && connection.isPoisoned()) {
                return "a connection was poisoned by a failed write";
            }
        }
        return null;
    }

    private void finishAll() {
        // Connections the work already ended itself (finish() or abort()) keep their ending.
        List<TcpConnection> owned = new ArrayList<>();
        for (TcpConnection connection : owned()) {
            if (connection.isOpen()) {
                owned.add(connection);
            }
        }
        if (!owned.isEmpty()) {
            try (var finishing = StructuredTaskScope.open(Joiner.<FinishResult>awaitAll(),
                    cf -> cf.withName("tcpscope-finish"))) {
                for (TcpConnection connection : owned) {
                    finishing.fork(() -> connection.finish(finishTimeout));
                }
                finishing.join();
            } catch (InterruptedException e) {
                // Interrupted while finishing: abort what is still being finished.
                Thread.currentThread().interrupt();
                for (TcpConnection connection : owned) {
                    connection.abort("interrupted while the scope was finishing", e);
                }
            }
        }
        collectEndings();
        List<String> undelivered = new ArrayList<>();
        for (TcpConnection connection : owned) {
            ConnectionEnding ending = endings.get(connection);
            if (ending == null || ending.mode() == ConnectionEnding.Mode.ABORTED) {
                undelivered.add(connection.remoteAddress() + ": "
                        + (ending == null ? "no ending recorded" : ending.reason()));
            }
        }
        if (!undelivered.isEmpty()) {
            throw new UndeliveredException("the scope succeeded but not every connection was delivered: "
                    + String.join("; ", undelivered), endings);
        }
    }

    private List<TcpConnection> owned() {
        List<TcpConnection> owned = new ArrayList<>();
        for (TcpConnection connection : connections) {
            if (connection.owner.get() == this) {
                owned.add(connection);
            }
        }
        return owned;
    }

    private void collectEndings() {
        for (TcpConnection connection : owned()) {
            connection.ending().ifPresent(ending -> endings.put(connection, ending));
        }
    }

    /** {@return how each owned connection ended, in the order the scope took them; complete after close()} */
    public Map<TcpConnection, ConnectionEnding> endings() {
        synchronized (endings) {
            return Collections.unmodifiableMap(new LinkedHashMap<>(endings));
        }
    }

    private void checkOwner(String operation) {
        if (Thread.currentThread() != ownerThread) {
            throw new WrongThreadException(operation + ": only the scope's owner thread (" + ownerThread
                    + ") may do this; the caller is " + Thread.currentThread());
        }
    }

    private void checkOpen(String operation) {
        if (closing) {
            throw new IllegalStateException(operation + ": the scope is closed");
        }
    }

    @Override
    public String toString() {
        return "TcpScope[owner=" + ownerThread.getName() + ", connections=" + connections.size()
                + (closing ? ", closed" : "") + "]";
    }
}
