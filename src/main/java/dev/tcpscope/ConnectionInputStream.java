package dev.tcpscope;

import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/**
 * {@link TcpConnection#inputStream()}: buffered reads through the connection's
 * {@link ConnectionInput}; closing it closes only the view (buffered bytes stay with the
 * connection, for the next read of any kind).
 */
final class ConnectionInputStream extends InputStream {

    private final TcpConnection connection;
    private volatile boolean closed;

    ConnectionInputStream(TcpConnection connection) {
        this.connection = connection;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff; // n is 1: a read of one byte waits for it
    }

    @Override
    public int read(byte[] bytes, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        if (closed) {
            throw new IOException("input stream view is closed (the connection is not)");
        }
        if (length == 0) {
            return 0;
        }
        return connection.readBuffered(bytes, offset, length);
    }

    @Override
    public int available() throws IOException {
        return closed ? 0 : connection.available();
    }

    /** {@return whether this view was closed} */
    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
    }
}
