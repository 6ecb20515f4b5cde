package dev.tcpscope;

import dev.tcpscope.internal.portable.PortableSocket;
import dev.tcpscope.internal.socket.SocketOptions;
import dev.tcpscope.testing.TransportUnderTest;

import java.io.IOException;

/** Sets a connection's SO_SNDBUF on either transport, so that a write parks after a few KiB. */
final class SendBuffers {

    private SendBuffers() {}

    static void set(TcpConnection connection, int bytes) throws IOException {
        if (TransportUnderTest.portable()) {
            ((PortableSocket) connection.transportSocket()).setSendBufferSize(bytes);
        } else {
            SocketOptionsOf.socket(connection).options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_SNDBUF, bytes);
        }
    }
}
