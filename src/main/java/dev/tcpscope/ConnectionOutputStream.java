package dev.tcpscope;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/**
 * {@link TcpConnection#outputStream()}: writes into the connection's output buffer; closing it
 * flushes and closes only the view (no FIN, no RST).
 */
final class ConnectionOutputStream extends OutputStream {

    private final TcpConnection connection;
    private volatile boolean closed;

    ConnectionOutputStream(TcpConnection connection) {
        this.connection = connection;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        if (closed) {
            throw new IOException("output stream view is closed (the connection is not)");
        }
        connection.writeBuffered(bytes, offset, length);
    }

    @Override
    public void flush() throws IOException {
        if (!closed) {
            connection.flushBuffered();
        }
    }

    /** {@return whether this view was closed} */
    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            try {
                connection.flushBuffered();
            } finally {
                closed = true;
            }
        }
    }
}
