package dev.tcpscope;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.concurrent.Callable;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.StructuredTaskScope.Joiner;
import java.util.concurrent.StructuredTaskScope.Subtask;
import java.util.function.Function;

/**
 * A {@link StructuredTaskScope} that owns TCP connections and ends them by the outcome of its
 * work. Success is explicit, like a connection's {@link TcpConnection#finish()} or a
 * transaction's commit: {@link #finish()} after {@link #join()} ends every connection the scope
 * is responsible for gracefully (FIN after every byte was acknowledged) and reports any it could
 * not; {@link #close()} without it aborts every owned connection (RST), whatever happened.
 *
 * {@snippet :
 * try (var scope = TcpScope.open()) {
 *     TcpConnection conn = scope.connect(address);
 *     var reply = scope.fork(() -> readReply(conn));
 *     scope.fork(() -> { writeRequest(conn); return null; });
 *     scope.join();
 *     use(reply.get());   // throws? close() aborts: the peer sees RST
 *     scope.finish();     // success: every connection ends with FIN
 * }
 * }
 *
 * <p>The scope fails when {@code join()} does not return normally or {@link #abort} is called:
 * every owned connection is aborted at once, which wakes the subtasks blocked on them, and
 * {@code finish()} is no longer possible.
 *
 * <p>Each connection belongs to a branch (the subtask in whose thread {@link #connect} or
 * {@link #adopt} ran, or the scope itself), which ends with its subtask: a failed subtask's
 * connections, and those it wrote to, are aborted at once; a set-aside loser's are aborted by
 * {@code finish()}, which is not a failure, so racing connections with
 * {@code Joiner.anySuccessfulResultOrThrow()} works. The rules in full, with racing, are in the
 * {@linkplain dev.tcpscope package description}.
 *
 * <p>Only the owner thread forks, joins, finishes, transfers and closes; {@code connect} and
 * {@code adopt} may also be called from the scope's subtasks. Scopes close in nesting order;
 * nothing can be forked after {@code join()} (the rules of {@link StructuredTaskScope}, a
 * preview API of JDK 25). A scope dropped without {@code close()} is not kept reachable by its
 * owner thread: the Cleaner backstop of its connections aborts them.
 *
 * <p><b>Java release.</b> This class uses {@link java.util.concurrent.StructuredTaskScope}, a
 * preview API of JDK 25 (JEP 505), so its class file and those of its nested types carry the
 * preview marking (class file version 69.65535): they load only on JDK 25, with
 * {@code --enable-preview}. On JDK 26 or later the first use throws
 * {@link UnsupportedClassVersionError} from the class loader ("... was compiled with preview
 * features that are unsupported ..."), before any tcpscope code runs: this jar's scope was
 * compiled against JDK 25's StructuredTaskScope and needs a tcpscope built for the running
 * release. {@link TcpConnection} and {@link TcpListener} carry no marking and work on JDK 25 and
 * any later JDK. See README.md, "Java versions".
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
         * @param scope      the scope, to fork subtasks (joined and finished for you)
         * @param connection the connection the scope opened
         * @return the result of {@link #call}
         * @throws Exception anything: the connection is then aborted
         */
        V run(TcpScope<Object, Void> scope, TcpConnection connection) throws Exception;
    }

    private final Thread ownerThread = Thread.currentThread();
    private final ScopeLedger ledger = new ScopeLedger(ownerThread.threadId());
    private final ScopeWork<T, R> work;
    private volatile Duration finishTimeout = TcpConnection.DEFAULT_FINISH_TIMEOUT;

    private TcpScope(Joiner<? super T, ? extends R> joiner, Function<StructuredTaskScope.Configuration, StructuredTaskScope.Configuration> configuration) {
        this.work = new ScopeWork<>(ledger, joiner, configuration);
    }

    /** Opens a scope whose {@code join()} waits for all subtasks and fails on the first failure. */
    public static TcpScope<Object, Void> open() {
        return open(Joiner.awaitAllSuccessfulOrThrow());
    }

    /**
     * {@link #open()} for a server's handler, whose task scope (and thread container, as thread
     * dumps show it) is named {@value #HANDLER_SCOPE_NAME}: an unnamed one is named by the JDK
     * after its identity, a string made per scope (about 100 bytes of heap per idle connection).
     */
    static TcpScope<Object, Void> openForHandler() {
        return new TcpScope<>(Joiner.awaitAllSuccessfulOrThrow(), cf -> cf.withName(HANDLER_SCOPE_NAME));
    }

    /** The task scope name of every server handler's scope: {@link #openForHandler()}. */
    static final String HANDLER_SCOPE_NAME = "tcpscope-connection";

    /** Opens a scope with {@code timeout} on its work; see {@link #open(Joiner, Duration)}. */
    public static TcpScope<Object, Void> open(Duration timeout) {
        return open(Joiner.awaitAllSuccessfulOrThrow(), timeout);
    }

    /**
     * Opens a scope whose {@code join()} returns what {@code joiner} decides (e.g.
     * {@code Joiner.anySuccessfulResultOrThrow()} for a race). The calling thread becomes the owner.
     *
     * <p><b>Preview API.</b> {@code Joiner} is a type of {@link StructuredTaskScope}, a preview API of
     * JDK 25 (JEP 505): this signature may change with it in a tcpscope built for a later JDK.
     */
    public static <T, R> TcpScope<T, R> open(Joiner<? super T, ? extends R> joiner) {
        Objects.requireNonNull(joiner, "joiner");
        return new TcpScope<>(joiner, Function.identity());
    }

    /**
     * Opens a scope with {@code joiner} and a timeout on its work: when it passes, {@code join()}
     * throws {@link StructuredTaskScope.TimeoutException}, the scope fails and every connection
     * is aborted. The calling thread becomes the owner.
     *
     * <p><b>Preview API.</b> {@code Joiner} is a type of {@link StructuredTaskScope}, a preview API of
     * JDK 25 (JEP 505): this signature may change with it in a tcpscope built for a later JDK.
     *
     * @throws IllegalArgumentException {@code timeout} is zero or negative
     */
    public static <T, R> TcpScope<T, R> open(Joiner<? super T, ? extends R> joiner, Duration timeout) {
        Objects.requireNonNull(joiner, "joiner");
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("scope timeout must be positive: " + timeout);
        }
        return new TcpScope<>(joiner, cf -> cf.withTimeout(timeout));
    }

    /**
     * The lambda form: connects to {@code address} and runs {@code body} in a new scope, which
     * declares success by returning: the scope is then joined (if the body did not) and
     * {@linkplain #finish() finished}. Throwing anything, before or after {@code join()}, aborts.
     * (If the body called {@code finish()} itself, a later exception cannot undo the graceful
     * endings.)
     *
     * @return what the body returned
     * @throws UndeliveredException  the body returned but not every connection was delivered
     * @throws IllegalStateException the body returned after swallowing a failure of the scope
     * @throws Exception             whatever the body threw, after the connection was aborted
     */
    public static <V> V call(InetSocketAddress address, Body<V> body) throws Exception {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(body, "body");
        try (TcpScope<Object, Void> scope = TcpScope.open()) {
            TcpConnection connection = scope.connect(address);
            V value;
            try {
                value = body.run(scope, connection);
                scope.joinIfNotJoined();
            } catch (Throwable t) {
                scope.ledger.fail("the body threw " + t, t);
                throw t;
            }
            scope.finish();
            return value;
        }
    }

    // ---------------------------------------------------------------- connections

    /** Connects to {@code address} with the default timeout; see {@link #connect(InetSocketAddress, Duration)}. */
    public TcpConnection connect(InetSocketAddress address) throws IOException {
        return connect(address, TcpConnection.DEFAULT_CONNECT_TIMEOUT);
    }

    /**
     * Connects to {@code address} within {@code timeout}, for the branch of the calling thread
     * (the scope's own, or the calling subtask's).
     *
     * @throws WrongThreadException  the caller is neither the owner nor in one of its subtasks
     * @throws IllegalStateException the scope has finished or closed (a connection made
     *                               meanwhile is aborted)
     */
    public TcpConnection connect(InetSocketAddress address, Duration timeout) throws IOException {
        ScopeBranch branch = ledger.branchOfCaller(ownerThread, "connect");
        ledger.checkTakes("connect");
        TcpConnection connection = TcpConnection.connect(address, timeout);
        ledger.take(connection, branch, "connect", true);
        return connection;
    }

    /**
     * Connects to {@code host} on {@code port} with the default timeout, for the branch of the
     * calling thread; see {@link TcpConnection#connect(String, int)} (every address of the name
     * tried in turn) and {@link #connect(InetSocketAddress, Duration)} (ownership).
     */
    public TcpConnection connect(String host, int port) throws IOException {
        return connect(HostAndPort.of(host, port), TcpConnection.DEFAULT_CONNECT_TIMEOUT);
    }

    /** Connects to {@code host} on {@code port} within {@code timeout}; see {@link #connect(String, int)}. */
    public TcpConnection connect(String host, int port, Duration timeout) throws IOException {
        return connect(HostAndPort.of(host, port), timeout);
    }

    /**
     * Connects over TLS, as {@link TcpConnection#connectTls(InetSocketAddress, Duration, SSLContext, String, Consumer)},
     * owned by this scope: its success sends {@code close_notify} then FIN, anything else RST.
     */
    public TcpConnection connectTls(InetSocketAddress address, Duration timeout, SSLContext context, String serverName,
                                    Consumer<SSLParameters> parameters) throws IOException {
        ScopeBranch branch = ledger.branchOfCaller(ownerThread, "connect");
        ledger.checkTakes("connect");
        TcpConnection connection = TcpConnection.connectTls(address, timeout, context, serverName, parameters);
        ledger.take(connection, branch, "connect", true);
        return connection;
    }

    /**
     * Takes ownership of {@code connection} (for example one accepted from a {@link TcpListener})
     * for the branch of the calling thread. A subtask may adopt as it may connect: a connection
     * it accepted is then its own, aborted if it fails or loses.
     *
     * @throws IllegalStateException another scope owns it, or this scope has finished or closed
     *                               (the connection is left as it was)
     * @throws WrongThreadException  the caller is neither the owner nor in one of its subtasks
     */
    public TcpConnection adopt(TcpConnection connection) {
        Objects.requireNonNull(connection, "connection");
        ScopeBranch branch = ledger.branchOfCaller(ownerThread, "adopt");
        ledger.checkTakes("adopt");
        ledger.take(connection, branch, "adopt", false);
        return connection;
    }

    /**
     * Moves {@code connection} from this scope to {@code target} (for example a longer-lived
     * pool scope for keep-alive clients): from now on only {@code target}'s outcome decides its
     * ending. A connection transferred to a scope that has failed is aborted at once.
     *
     * @throws IllegalStateException this scope does not own it, or either scope has finished or
     *                               closed
     */
    public void transfer(TcpConnection connection, TcpScope<?, ?> target) {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(target, "target");
        checkOwner("transfer");
        ledger.checkTakes("transfer");
        if (target == this) {
            throw new IllegalStateException("transfer: the target is this scope");
        }
        target.ledger.receive(connection, ledger);
    }

    // ---------------------------------------------------------------- structured work

    /**
     * Forks a subtask, in a branch of its own; see {@link StructuredTaskScope#fork(Callable)}.
     *
     * <p><b>Preview API.</b> {@code Subtask} is a type of {@link StructuredTaskScope}, a preview API of
     * JDK 25 (JEP 505): this signature may change with it in a tcpscope built for a later JDK.
     *
     * @throws IllegalStateException after {@code join()} or {@code finish()}
     */
    public <U extends T> Subtask<U> fork(Callable<? extends U> task) {
        Objects.requireNonNull(task, "task");
        checkOwner("fork");
        return work.fork(task);
    }

    /**
     * Forks a subtask that returns nothing; see {@link #fork(Callable)}.
     *
     * <p><b>Preview API.</b> {@code Subtask} is a type of {@link StructuredTaskScope}, a preview API of
     * JDK 25 (JEP 505): this signature may change with it in a tcpscope built for a later JDK.
     */
    public <U extends T> Subtask<U> fork(Runnable task) {
        Objects.requireNonNull(task, "task");
        return fork(() -> {
            task.run();
            return null;
        });
    }

    /**
     * Waits for the subtasks as the Joiner decides; see {@link StructuredTaskScope#join()}. If it
     * does not return normally the scope has failed: every connection is aborted before it throws.
     *
     * <p><b>Preview API.</b> The exceptions are {@link StructuredTaskScope}'s, a preview API of
     * JDK 25 (JEP 505), and may change with it in a tcpscope built for a later JDK.
     *
     * @throws StructuredTaskScope.FailedException  the Joiner's result is a failure
     * @throws StructuredTaskScope.TimeoutException the scope's timeout passed
     * @throws InterruptedException                 the owner was interrupted
     */
    public R join() throws InterruptedException {
        checkOwner("join");
        return work.join();
    }

    /** Joins unless the owner already called {@code join()}: for the forms where returning declares success. */
    void joinIfNotJoined() throws InterruptedException {
        if (!work.joinCalled()) {
            join();
        }
    }

    /**
     * Declares the scope's success (owner thread, once {@link #join()} returned normally): aborts
     * the connections of set-aside subtasks, then ends gracefully, concurrently, every open
     * connection the scope is responsible for (of its own branch and of subtasks that succeeded),
     * each within the {@linkplain #finishTimeout finish timeout}, which bounds the delivery as the
     * scope's timeout bounds the work. Connections the work ended itself keep their ending.
     *
     * <p>Edges: before {@code join()}, {@link IllegalStateException} and nothing changes
     * ({@code close()} without a later {@code finish()} aborts); after {@code join()} threw or the
     * scope failed, {@code IllegalStateException} naming why; a second call repeats the first
     * outcome (returns, or throws the same {@code UndeliveredException}); afterwards
     * {@code fork}, {@code connect}, {@code adopt} and {@code transfer} throw
     * {@code IllegalStateException}, and an exception before {@code close()} changes nothing.
     *
     * @throws UndeliveredException  a connection the scope was to finish ended aborted (not
     *                               acknowledged by the deadline, reset by its peer, poisoned, or
     *                               written to by a subtask that did not succeed); the others
     *                               ended gracefully
     * @throws IllegalStateException success cannot be declared now (see above)
     * @throws WrongThreadException  not called by the owner
     */
    public void finish() {
        checkOwner("finish");
        work.finish(finishTimeout);
    }

    /**
     * Fails the scope (any thread): every owned connection is aborted now (subtasks blocked on
     * them wake), {@code finish()} is no longer possible, and the task scope is cancelled when the
     * next subtask completes. After {@code finish()} it changes nothing.
     */
    public void abort(Throwable cause) {
        ledger.fail(cause == null ? "scope.abort()" : "scope.abort(" + cause + ")", cause);
    }

    /**
     * Sets how long the graceful endings may take (default
     * {@link TcpConnection#DEFAULT_FINISH_TIMEOUT}), counted from {@code finish()}.
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
     * Ends the scope: without {@code finish()}, aborts every owned connection whatever happened
     * (subtasks blocked on them wake); then closes the {@link StructuredTaskScope}, which waits
     * for the subtasks. After {@code finish()} it only closes the task scope. Closing before the
     * scopes nested in it is a structure violation: their connections, and this scope's if it
     * did not finish, are aborted, then the JDK closes the nested scopes and throws.
     *
     * @throws IllegalStateException the owner forked but never joined (after the connections were aborted)
     * @throws java.util.concurrent.StructureViolationException scopes nested in this one are
     *                               still open (after their connections were aborted)
     * @throws WrongThreadException  not called by the owner
     */
    @Override
    public void close() {
        checkOwner("close");
        work.close();
    }

    /** {@return how each owned connection ended, in the order the scope took them; complete after finish() or close()} */
    public Map<TcpConnection, ConnectionEnding> endings() {
        return ledger.endings();
    }

    /** {@return whether this scope owns {@code connection} now (it was not transferred away)} */
    boolean owns(TcpConnection connection) {
        return ledger.owns(connection);
    }

    private void checkOwner(String operation) {
        if (Thread.currentThread() != ownerThread) {
            throw new WrongThreadException(operation + ": only the scope's owner thread (" + ownerThread
                    + ") may do this; the caller is " + Thread.currentThread());
        }
    }

    @Override
    public String toString() {
        return "TcpScope[owner=" + ownerThread.getName() + ", connections=" + ledger.size()
                + (ledger.failed() ? ", failed" : "") + ", " + work + "]";
    }
}
