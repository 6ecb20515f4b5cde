package dev.tcpscope.oracle;

/**
 * How the program under test ends its connection, the main dimension of the ending oracle. Each
 * path belongs to one layer of the API and is either a success the program declares or a failure.
 */
enum EndingPath {
    // A TcpConnection on its own (ConnectionPaths).
    CONN_FINISH(Layer.CONNECTION, true),
    CONN_EXCEPTION(Layer.CONNECTION, false),
    CONN_ERROR(Layer.CONNECTION, false),
    CONN_ABORT(Layer.CONNECTION, false),
    CONN_CLOSE_WITHOUT_FINISH(Layer.CONNECTION, false),
    /** shutdownOutput(), then an exception: the commitment point (exempt case a). */
    CONN_SHUTDOWN_OUTPUT_THEN_FAIL(Layer.CONNECTION, false),

    // A TcpScope (ScopePaths).
    SCOPE_SUCCESS(Layer.SCOPE, true),
    SCOPE_CALL_SUCCESS(Layer.SCOPE, true),
    SCOPE_CALL_THROWS_AFTER_JOIN(Layer.SCOPE, false),
    SCOPE_EXCEPTION_BEFORE_JOIN(Layer.SCOPE, false),
    SCOPE_EXCEPTION_AFTER_JOIN(Layer.SCOPE, false),
    SCOPE_CLOSE_WITHOUT_FINISH(Layer.SCOPE, false),
    SCOPE_ABORT(Layer.SCOPE, false),
    SCOPE_SUBTASK_FAILS(Layer.SCOPE, false),
    SCOPE_TIMEOUT(Layer.SCOPE, false),
    SCOPE_OWNER_INTERRUPTED(Layer.SCOPE, false),
    SCOPE_NESTED_SUCCESS(Layer.SCOPE, true),
    SCOPE_NESTED_INNER_FAILS(Layer.SCOPE, false),
    SCOPE_NESTED_OUTER_CLOSED_FIRST(Layer.SCOPE, false),
    /** The connection moves to an enclosing scope, the source scope then fails, the target succeeds. */
    SCOPE_TRANSFER_SOURCE_FAILS(Layer.SCOPE, true),
    SCOPE_TRANSFER_TARGET_FAILS(Layer.SCOPE, false),

    // A TcpServer handler (ServerPaths).
    SERVER_RETURN(Layer.SERVER, true),
    SERVER_THROW(Layer.SERVER, false),
    SERVER_ERROR(Layer.SERVER, false),
    SERVER_SUBTASK_FAILS(Layer.SERVER, false),
    SERVER_SHUTDOWN(Layer.SERVER, false),
    SERVER_TIME_LIMIT(Layer.SERVER, false),
    SERVER_IDLE_LIMIT(Layer.SERVER, false),
    /** The handler transfers its connection to a longer-lived scope, which then succeeds. */
    SERVER_TRANSFER(Layer.SERVER, true);

    /** The API layer a path exercises. */
    enum Layer { CONNECTION, SCOPE, SERVER }

    private final Layer layer;
    private final boolean success;

    EndingPath(Layer layer, boolean success) {
        this.layer = layer;
        this.success = success;
    }

    Layer layer() {
        return layer;
    }

    /** {@return whether the program declares success on this path (if its I/O does not fail)} */
    boolean success() {
        return success;
    }

    /** {@return whether the program must connect (the lambda form takes an address)} */
    boolean mustConnect() {
        return this == SCOPE_CALL_SUCCESS || this == SCOPE_CALL_THROWS_AFTER_JOIN;
    }

    /** {@return whether the program blocks until the library ends the connection (timeouts, limits, shutdown)} */
    boolean blocks() {
        return this == SCOPE_TIMEOUT || this == SCOPE_OWNER_INTERRUPTED || this == SERVER_SHUTDOWN
                || this == SERVER_TIME_LIMIT || this == SERVER_IDLE_LIMIT;
    }
}
