package dev.tcpscope;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;

/** {@link TcpConnection#channel()}: a ByteChannel view; closing it closes only the view. */
final class ConnectionChannel implements ByteChannel {

    private final TcpConnection connection;
    private volatile boolean open = true;

    ConnectionChannel(TcpConnection connection) {
        this.connection = connection;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (!open) {
            throw new ClosedChannelException();
        }
        return connection.read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (!open) {
            throw new ClosedChannelException();
        }
        int n = src.remaining();
        connection.write(src);
        return n;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        open = false;
    }
}
