package dev.tcpscope.internal.transport;

import java.io.IOException;
import java.net.InetSocketAddress;

/** A listening TCP socket of a {@link Transport}, whose accepted sockets abort by default. */
public interface ListeningSocket {

    /**
     * Accepts one connection, waiting until one arrives, the deadline passes, the listener is
     * closed ({@link dev.tcpscope.ConnectionClosedException}) or the thread is interrupted.
     */
    StreamSocket accept(long deadline) throws IOException;

    /** {@return the bound address, with the real port after binding port 0} */
    InetSocketAddress localAddress() throws IOException;

    /** Stops listening; a thread waiting in {@link #accept} wakes. {@return whether this call closed it} */
    boolean close();
}
