package dev.tcpscope.oracle;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpScope;
import dev.tcpscope.UndeliveredException;

import java.util.concurrent.StructureViolationException;

/**
 * The paths of a {@link TcpScope}, as a program writes them, and the only place the oracle
 * declares a scope's success.
 *
 * <p>Success is explicit: {@code scope.join(); scope.finish();} ends every owned connection
 * gracefully (throwing {@link UndeliveredException} if one was not delivered), and {@code close()}
 * without {@code finish()} aborts every one, also after a normal {@code join()} — so
 * {@link #exceptionAfterJoin} (an exception between {@code join()} and {@code finish()}) aborts.
 */
final class ScopePaths {

    private ScopePaths() {}

    /** Declares the scope's success: ends its connections gracefully. */
    static void declareSuccess(TcpScope<?, ?> scope) {
        scope.finish();
    }

    static void run(ProgramContext cx) {
        try {
            switch (cx.scenario().path()) {
                case SCOPE_SUCCESS -> success(cx);
                case SCOPE_CALL_SUCCESS -> call(cx, false);
                case SCOPE_CALL_THROWS_AFTER_JOIN -> call(cx, true);
                case SCOPE_EXCEPTION_BEFORE_JOIN -> exceptionBeforeJoin(cx);
                case SCOPE_EXCEPTION_AFTER_JOIN -> exceptionAfterJoin(cx);
                case SCOPE_CLOSE_WITHOUT_FINISH -> closeWithoutFinish(cx);
                case SCOPE_ABORT -> abort(cx);
                case SCOPE_SUBTASK_FAILS -> subtaskFails(cx);
                case SCOPE_TIMEOUT -> timeout(cx);
                case SCOPE_OWNER_INTERRUPTED -> ownerInterrupted(cx);
                case SCOPE_NESTED_SUCCESS -> nested(cx, false);
                case SCOPE_NESTED_INNER_FAILS -> nested(cx, true);
                case SCOPE_NESTED_OUTER_CLOSED_FIRST -> outerClosedFirst(cx);
                case SCOPE_TRANSFER_SOURCE_FAILS -> transferSourceFails(cx);
                case SCOPE_TRANSFER_TARGET_FAILS -> transferTargetFails(cx);
                default -> throw new IllegalArgumentException("not a scope path: " + cx.scenario().path());
            }
        } catch (UndeliveredException e) {
            cx.record().undelivered(e);
        } catch (Throwable t) {
            cx.record().failed(t);
        } finally {
            Thread.interrupted(); // the owner-interrupted path: leave the program's thread as it was
        }
    }

    private static TcpScope<Object, Void> open(ProgramContext cx) {
        return TcpScope.open().finishTimeout(cx.scenario().finishTimeout());
    }

    private static void success(ProgramContext cx) throws Exception {
        var scope = open(cx);
        try (scope) {
            TcpConnection c = cx.openIn(scope);
            cx.exchangeIn(scope, c);
            scope.join();
            cx.beforeEnding(c);
            cx.record().declared();
            declareSuccess(scope);
        } finally {
            cx.record().scopeEndings(scope.endings());
        }
    }

    private static void call(ProgramContext cx, boolean throwsAfterJoin) throws Exception {
        try {
            TcpScope.call(cx.wiring().target(), (scope, c) -> {
                scope.finishTimeout(cx.scenario().finishTimeout());
                cx.got(c);
                cx.exchangeIn(scope, c);
                scope.join();
                if (throwsAfterJoin) {
                    throw new PlannedFailure("the lambda throws after join()");
                }
                cx.beforeEnding(c);
                cx.record().declared();
                return null; // returning normally declares success
            });
        } catch (UndeliveredException e) {
            cx.record().scopeEndings(e.endings());
            throw e;
        }
    }

    private static void exceptionBeforeJoin(ProgramContext cx) throws Exception {
        var scope = open(cx);
        try (scope) {
            cx.exchangeIn(scope, cx.openIn(scope));
            throw new PlannedFailure("an exception before join()");
        } finally {
            cx.record().scopeEndings(scope.endings());
        }
    }

    private static void exceptionAfterJoin(ProgramContext cx) throws Exception {
        var scope = open(cx);
        try (scope) {
            cx.exchangeIn(scope, cx.openIn(scope));
            scope.join();
            throw new PlannedFailure("an exception after join()"); // close() without finish(): aborts
        } finally {
            cx.record().scopeEndings(scope.endings());
        }
    }

    private static void closeWithoutFinish(ProgramContext cx) throws Exception {
        var scope = open(cx);
        try (scope) {
            cx.exchangeIn(scope, cx.openIn(scope));
            scope.join(); // a joined scope, closed without finish()
            cx.record().failed(new PlannedFailure("close() without finish()"));
        } catch (IllegalStateException forkedButNotJoined) {
            // the JDK's complaint about the fork without join(), after the connections were aborted
        } finally {
            cx.record().scopeEndings(scope.endings());
        }
    }

    private static void abort(ProgramContext cx) throws Exception {
        var scope = open(cx);
        try (scope) {
            cx.exchangeIn(scope, cx.openIn(scope));
            scope.join();
            PlannedFailure cause = new PlannedFailure("scope.abort()");
            cx.record().failed(cause);
            scope.abort(cause);
        } finally {
            cx.record().scopeEndings(scope.endings());
        }
    }

    private static void subtaskFails(ProgramContext cx) throws Exception {
        var scope = open(cx);
        try (scope) {
            TcpConnection c = cx.openIn(scope);
            if (cx.scenario().readerWriter()) {
                scope.fork(() -> cx.read(c));
            }
            scope.fork(() -> cx.writeThenFail(c));
            scope.join();
        } finally {
            cx.record().scopeEndings(scope.endings());
        }
    }

    private static void timeout(ProgramContext cx) throws Exception {
        var scope = TcpScope.open(cx.scenario().limit()).finishTimeout(cx.scenario().finishTimeout());
        try (scope) {
            TcpConnection c = cx.openIn(scope);
            writeThenBlock(cx, scope, c, null);
            scope.join(); // throws StructuredTaskScope.TimeoutException
        } finally {
            cx.record().scopeEndings(scope.endings());
        }
    }

    private static void ownerInterrupted(ProgramContext cx) throws Exception {
        var scope = open(cx);
        try (scope) {
            TcpConnection c = cx.openIn(scope);
            writeThenBlock(cx, scope, c, Thread.currentThread());
            scope.join(); // throws InterruptedException
        } finally {
            cx.record().scopeEndings(scope.endings());
        }
    }

    /** Writes (in the owner, or a writer subtask), then a subtask blocks, after interrupting {@code owner}. */
    private static void writeThenBlock(ProgramContext cx, TcpScope<Object, Void> scope, TcpConnection c, Thread owner)
            throws Exception {
        if (cx.scenario().readerWriter()) {
            scope.fork(() -> cx.write(c));
        } else {
            cx.write(c);
        }
        scope.fork(() -> {
            if (owner != null) {
                owner.interrupt();
            }
            ProgramIo.block(c);
            return null;
        });
    }

    private static void nested(ProgramContext cx, boolean innerFails) throws Exception {
        try (var outer = TcpScope.open()) {
            var inner = open(cx);
            try (inner) {
                TcpConnection c = cx.openIn(inner);
                cx.exchangeIn(inner, c);
                if (innerFails) {
                    throw new PlannedFailure("the nested scope fails before join()");
                }
                inner.join();
                cx.beforeEnding(c);
                cx.record().declared();
                declareSuccess(inner);
            } finally {
                cx.record().scopeEndings(inner.endings());
            }
            outer.join();
            declareSuccess(outer);
        }
    }

    private static void outerClosedFirst(ProgramContext cx) throws Exception {
        var outer = TcpScope.open();
        var inner = open(cx);
        try {
            TcpConnection c = cx.openIn(inner);
            cx.exchangeIn(inner, c);
            inner.join();
            cx.record().failed(new PlannedFailure("the enclosing scope is closed before the nested one"));
            try {
                outer.close();
            } catch (StructureViolationException expected) {
                // the JDK's verdict, after tcpscope aborted the nested scope's connections
            }
        } finally {
            try {
                inner.close();
            } catch (RuntimeException alreadyClosedByTheJdk) {
                // the JDK closed it with the enclosing scope
            }
            cx.record().scopeEndings(inner.endings());
        }
    }

    private static void transferSourceFails(ProgramContext cx) throws Exception {
        var pool = open(cx); // the target, like a keep-alive pool
        try (pool) {
            try (var source = TcpScope.open()) {
                TcpConnection c = cx.openIn(source);
                cx.exchangeIn(source, c);
                source.join();
                source.transfer(c, pool);
                throw new PlannedFailure("the source scope fails after the transfer");
            } catch (PlannedFailure onlyTheSourceFailed) {
                // the pool owns the connection now: this failure is not its
            }
            pool.join();
            cx.beforeEnding(cx.record().connection());
            cx.record().declared();
            declareSuccess(pool);
        } finally {
            cx.record().scopeEndings(pool.endings());
        }
    }

    private static void transferTargetFails(ProgramContext cx) throws Exception {
        var pool = TcpScope.open();
        try (pool) {
            var source = open(cx);
            try (source) {
                TcpConnection c = cx.openIn(source);
                cx.exchangeIn(source, c);
                source.join();
                source.transfer(c, pool);
                declareSuccess(source); // nothing of its own left to finish
            }
            throw new PlannedFailure("the target scope fails before join()");
        } finally {
            cx.record().scopeEndings(pool.endings());
        }
    }
}
