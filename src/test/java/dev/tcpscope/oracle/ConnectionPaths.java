package dev.tcpscope.oracle;

import dev.tcpscope.TcpConnection;

/**
 * The paths of a {@link TcpConnection} on its own, as a program writes them: try-with-resources
 * around the exchange, then {@code finish()} on success; an exception, an Error, {@code abort()},
 * {@code close()} without {@code finish()}, or {@code shutdownOutput()} then an exception
 * otherwise.
 */
final class ConnectionPaths {

    private ConnectionPaths() {}

    @SuppressWarnings("try") // close() inside the try: the path under test is an explicit close()
    static void run(ProgramContext cx) {
        Scenario s = cx.scenario();
        ProgramRecord rec = cx.record();
        try (TcpConnection c = cx.open()) {
            cx.exchange(c);
            switch (s.path()) {
                case CONN_FINISH -> {
                    cx.beforeEnding(c);
                    rec.declared();
                    rec.finishResult(c.finish(s.finishTimeout()));
                }
                case CONN_EXCEPTION -> throw new PlannedFailure("an exception after the exchange");
                case CONN_ERROR -> throw new PlannedFailure.AsError("an Error after the exchange");
                case CONN_ABORT -> {
                    rec.failed(new PlannedFailure("abort()"));
                    c.abort();
                }
                case CONN_CLOSE_WITHOUT_FINISH -> {
                    rec.failed(new PlannedFailure("close() without finish()"));
                    c.close();
                }
                case CONN_SHUTDOWN_OUTPUT_THEN_FAIL -> {
                    rec.shutdownOutputAt(c.bytesWritten());
                    c.shutdownOutput(); // the commitment point: a reset after it reads as an end
                    throw new PlannedFailure("an exception after shutdownOutput()");
                }
                default -> throw new IllegalArgumentException("not a connection path: " + s.path());
            }
        } catch (Throwable t) {
            rec.failed(t); // try-with-resources has closed (aborted) the connection
        }
    }
}
