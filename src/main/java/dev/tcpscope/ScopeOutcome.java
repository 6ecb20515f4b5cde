package dev.tcpscope;

/**
 * The owner thread's side of a {@link TcpScope}'s outcome: whether {@code join()} returned or
 * threw, whether {@code finish()} declared success and what it reported, whether the scope was
 * closed — and the edge rules of {@code finish()} that follow from them. Owner thread only.
 */
final class ScopeOutcome {

    private enum Join { NOT_CALLED, RETURNED, THREW }

    private Join join = Join.NOT_CALLED;
    private Throwable joinFailure;
    private boolean finished;                  // finish() ran to its outcome
    private UndeliveredException undelivered;  // that outcome, if not every connection was delivered
    private boolean closed;

    boolean joinCalled() {
        return join != Join.NOT_CALLED;
    }

    void joinReturned() {
        join = Join.RETURNED;
    }

    void joinThrew(Throwable failure) {
        join = Join.THREW;
        joinFailure = failure;
    }

    Throwable joinFailure() {
        return joinFailure;
    }

    boolean finished() {
        return finished;
    }

    boolean closed() {
        return closed;
    }

    void closing() {
        closed = true;
    }

    /**
     * Repeats the outcome of an earlier {@code finish()}: returns true if there was one (and it
     * was delivered), throws its {@link UndeliveredException} if it was not, returns false if
     * {@code finish()} has not run yet.
     */
    boolean repeatFinish() {
        if (!finished) {
            return false;
        }
        if (undelivered != null) {
            throw undelivered;
        }
        return true;
    }

    /**
     * Throws {@link IllegalStateException} if success may not be declared now: before
     * {@code join()}, after it threw, after the scope failed, or after {@code close()}. Changes
     * nothing: a refused {@code finish()} ends no connection.
     */
    void checkFinishAllowed(ScopeLedger ledger) {
        if (closed) {
            throw new IllegalStateException("finish(): the scope is closed (close() without finish() aborted"
                    + " its connections)");
        }
        switch (join) {
            case NOT_CALLED -> throw new IllegalStateException("finish() before join(): success can be declared"
                    + " only once join() has returned normally; nothing was ended (close() without a later finish()"
                    + " aborts every connection)");
            case THREW -> throw new IllegalStateException("finish() after join() threw: the scope failed, and its"
                    + " connections were aborted", joinFailure);
            case RETURNED -> { }
        }
        if (ledger.failed()) {
            throw new IllegalStateException("finish(): the scope failed (" + ledger.failureReason()
                    + "); its connections were aborted", ledger.failureCause());
        }
    }

    void finished(UndeliveredException outcome) {
        finished = true;
        undelivered = outcome;
    }

    /** {@return why close() without finish() aborts} */
    String closeReason() {
        return switch (join) {
            case NOT_CALLED -> "scope closed without join() and finish()";
            case THREW -> "the scope's join() did not return normally: " + joinFailure;
            case RETURNED -> "scope closed without finish()";
        };
    }

    @Override
    public String toString() {
        return closed ? "closed" : finished ? "finished" : join == Join.NOT_CALLED ? "open" : "joined";
    }
}
