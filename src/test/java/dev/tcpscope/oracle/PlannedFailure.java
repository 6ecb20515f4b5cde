package dev.tcpscope.oracle;

/**
 * The failure a scenario's program throws on purpose (a failure path): told apart from failures
 * that happened to it (a reset, a timeout) by its type.
 */
final class PlannedFailure extends Exception {

    private static final long serialVersionUID = 1L;

    PlannedFailure(String what) {
        super(what + " (planned by the oracle)", null, false, false);
    }

    /** The Error a program throws on the paths that fail with an Error. */
    static final class AsError extends Error {
        private static final long serialVersionUID = 1L;

        AsError(String what) {
            super(what + " (planned by the oracle)", null, false, false);
        }
    }

    /** {@return whether {@code t} is, or was caused by, a planned failure} */
    static boolean isPlanned(Throwable t) {
        for (int depth = 0; t != null && depth < 10; t = t.getCause(), depth++) {
            if (t instanceof PlannedFailure || t instanceof AsError) {
                return true;
            }
        }
        return false;
    }
}
