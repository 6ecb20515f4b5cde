package dev.tcpscope.internal.transport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * A way to make TCP sockets: the native one (Linux system calls through FFM, with delivery
 * confirmation) or the portable one (the JDK's channels, everywhere Java runs).
 * {@link Transports#current()} chooses.
 */
public interface Transport {

    /** {@return "native" or "portable"} */
    String name();

    /**
     * Connects to {@code address} (an unresolved one is resolved, each address tried in turn),
     * within {@code timeout} for all attempts, from {@code local} if not {@code null}. The socket
     * aborts by default from before the handshake (SO_LINGER {1, 0}).
     */
    StreamSocket connect(InetSocketAddress address, Duration timeout, InetSocketAddress local) throws IOException;

    /**
     * Binds and listens with SO_REUSEADDR and {@code options}; accepted sockets abort by default
     * (how soon after the handshake depends on the transport: see its class comment).
     */
    ListeningSocket listen(InetSocketAddress address, ListenOptions options) throws IOException;
}
