package dev.tcpscope;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ScatteringByteChannel;
import java.util.Arrays;
import java.util.Objects;

/**
 * {@link TcpConnection#channel()}: a ByteChannel view, gathering and scattering too
 * ({@link TcpConnection#write(ByteBuffer...)}, {@link TcpConnection#read(ByteBuffer...)});
 * closing it closes only the view.
 */
final class ConnectionChannel implements ByteChannel, GatheringByteChannel, ScatteringByteChannel {

    private final TcpConnection connection;
    private volatile boolean open = true;

    ConnectionChannel(TcpConnection connection) {
        this.connection = connection;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        checkOpen();
        return connection.read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        checkOpen();
        int n = src.remaining();
        connection.write(src);
        return n;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        checkOpen();
        return connection.write(Arrays.copyOfRange(srcs, offset, offset + length));
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        return write(srcs, 0, srcs.length);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        checkOpen();
        return connection.read(Arrays.copyOfRange(dsts, offset, offset + length));
    }

    @Override
    public long read(ByteBuffer[] dsts) throws IOException {
        return read(dsts, 0, dsts.length);
    }

    private void checkOpen() throws ClosedChannelException {
        if (!open) {
            throw new ClosedChannelException();
        }
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
