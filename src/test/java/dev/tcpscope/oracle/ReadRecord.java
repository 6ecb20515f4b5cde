package dev.tcpscope.oracle;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.TlsTruncationException;

import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;

/**
 * What one of our readers saw: the bytes (count and CRC-32, checked against the pattern the peer
 * sends) and how the reading ended.
 *
 * @param count   bytes read
 * @param crc     their CRC-32
 * @param end     how the reading ended
 * @param failure the exception that ended it, or {@code null}
 */
record ReadRecord(long count, long crc, End end, Throwable failure) {

    /** How a read loop ended. */
    enum End {
        /** It read the count it was asked for. */
        COUNT,
        /** read() returned -1: the peer's FIN, as the library reports it. */
        EOF,
        /** {@link ConnectionResetException}: the peer's RST. */
        RESET,
        /** {@link TlsTruncationException}: the peer's FIN came without its {@code close_notify}. */
        TRUNCATED,
        /** {@link ConnectionClosedException}: our own side ended the connection. */
        CLOSED,
        /** A read timeout (the guard) passed. */
        TIMEOUT,
        /** The thread was interrupted. */
        INTERRUPTED,
        /** Anything else. */
        OTHER;

        static End of(Throwable t) {
            if (t instanceof ConnectionResetException) {
                return RESET;
            } else if (t instanceof TlsTruncationException) {
                return TRUNCATED;
            } else if (t instanceof ConnectionClosedException) {
                return CLOSED;
            } else if (t instanceof SocketTimeoutException) {
                return TIMEOUT;
            } else if (t instanceof InterruptedIOException) {
                return INTERRUPTED;
            }
            return OTHER;
        }
    }

    /** {@return whether the bytes read are the pattern's first {@link #count} bytes} */
    boolean bytesIntact() {
        return crc == PeerReport.patternCrc(count);
    }

    @Override
    public String toString() {
        return end + " after " + count + " bytes" + (bytesIntact() ? "" : " (NOT the pattern)")
                + (failure != null ? " (" + failure + ")" : "");
    }
}
