package dev.tcpscope.oracle;

import java.util.List;

/**
 * The oracle's judgement of one scenario.
 *
 * @param outcome    the column of the outcome table: what happened when the views agree
 *                   ({@code FIN}, {@code RST:failure}, ...), {@code known-hole-N}, or {@code MISMATCH}
 * @param violations the broken rules, each with the detail that broke it; empty when consistent
 * @param hole       the known hole the violations are attributed to, or 0
 */
record Verdict(String outcome, List<String> violations, int hole) {

    static final String MISMATCH = "MISMATCH";

    /** {@return whether this verdict fails a run} */
    boolean isMismatch() {
        return outcome.equals(MISMATCH);
    }
}
