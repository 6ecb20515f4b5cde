package dev.tcpscope.examples;

import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.TlsTruncationException;
import dev.tcpscope.TcpConnection;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;

/**
 * What the reading end of a connection saw: how the other side ended it, and how many bytes came
 * before. The demo's peer and the {@code probe} command both record it, by reading with a
 * {@link TcpConnection}, which tells FIN (read returns -1) from RST (a typed exception).
 *
 * @param ending how the connection ended
 * @param bytes  bytes received before the ending
 * @param first  the first bytes received, for display (at most 200)
 */
public record PeerObservation(Ending ending, long bytes, String first) {

    /** How the other side ended the connection. */
    public enum Ending {
        /** A clean end of stream: FIN. */
        FIN,
        /** A reset: RST. */
        RST,
        /** Over TLS: the peer's FIN without its {@code close_notify} (a truncated TLS stream). */
        TRUNCATED,
        /** Still open when we stopped waiting. */
        OPEN
    }

    /**
     * Reads everything {@code connection} delivers until the peer's FIN or RST, or until no byte
     * arrives for {@code quiet}. The connection is ended afterwards (gracefully after a FIN).
     */
    public static PeerObservation readToEnd(TcpConnection connection, Duration quiet) throws IOException {
        connection.readTimeout(quiet);
        byte[] buffer = new byte[16 * 1024];
        StringBuilder first = new StringBuilder();
        long total = 0;
        try {
            while (true) {
                int n = connection.read(buffer);
                if (n < 0) {
                    connection.finish(Duration.ofSeconds(2));
                    return new PeerObservation(Ending.FIN, total, first.toString());
                }
                if (first.length() < 200) {
                    first.append(new String(buffer, 0, Math.min(n, 200 - first.length()),
                            java.nio.charset.StandardCharsets.ISO_8859_1));
                }
                total += n;
            }
        } catch (ConnectionResetException e) {
            connection.abort();
            return new PeerObservation(Ending.RST, total, first.toString());
        } catch (TlsTruncationException e) {
            connection.abort();
            return new PeerObservation(Ending.TRUNCATED, total, first.toString());
        } catch (SocketTimeoutException e) {
            connection.abort();
            return new PeerObservation(Ending.OPEN, total, first.toString());
        }
    }

    /** {@return e.g. "clean EOF after 4096 bytes" or "connection reset after 1024 bytes"} */
    public String describe() {
        return switch (ending) {
            case FIN -> "clean EOF after " + bytes + " bytes";
            case RST -> "connection reset after " + bytes + " bytes";
            case TRUNCATED -> "truncated after " + bytes + " bytes";
            case OPEN -> "still open after " + bytes + " bytes";
        };
    }
}
