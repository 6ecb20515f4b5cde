package dev.tcpscope.oracle;

import java.io.IOException;

/**
 * A peer implementation that does not use tcpscope: it listens or connects for one scenario at a
 * time and drives each socket with one thread, so that it cannot lose a reset to a read/write
 * race of its own. {@link PythonPeerDriver} and {@link JdkPeerDriver}.
 */
interface PeerDriver extends AutoCloseable {

    /** Listens on an ephemeral loopback port, accepts one connection and follows {@code plan}. */
    PeerSession listen(String id, PeerPlan plan) throws IOException;

    /** Connects to {@code port} on the loopback address and follows {@code plan}. */
    PeerSession connect(String id, int port, PeerPlan plan) throws IOException;

    @Override
    void close();
}
