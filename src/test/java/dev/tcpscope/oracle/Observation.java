package dev.tcpscope.oracle;

/**
 * The three views of one scenario, for the oracle to check against each other: the scenario (what
 * the program meant to do), the program's record (what it did and what tcpscope reported), and
 * the peer's report (what arrived at the far end; {@code null} if it never reported).
 */
record Observation(Scenario scenario, ProgramRecord program, PeerReport peer) {

    @Override
    public String toString() {
        return scenario.describe() + "\n    " + program + "\n    " + (peer == null ? "no peer report" : peer);
    }
}
