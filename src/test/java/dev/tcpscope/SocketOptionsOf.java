package dev.tcpscope;

import dev.tcpscope.internal.socket.NativeSocket;
import dev.tcpscope.internal.socket.SocketOptions;

/**
 * The socket options of a connection, for tests and child JVMs outside this package (the fault
 * suite, {@code dev.tcpscope.faults}) that must read buffer sizes or clear SO_LINGER on purpose:
 * {@link TcpConnection#transportSocket()} is package-private. Native transport only.
 */
public final class SocketOptionsOf {

    private SocketOptionsOf() {}

    /** {@return the socket options of {@code connection}'s socket} */
    public static SocketOptions connection(TcpConnection connection) {
        return socket(connection).options();
    }

    /** {@return the native socket of {@code connection}} (a ClassCastException on the portable transport) */
    public static NativeSocket socket(TcpConnection connection) {
        return (NativeSocket) connection.transportSocket();
    }
}
