package dev.tcpscope.peers;

import dev.tcpscope.testing.Patterns;
import dev.tcpscope.testing.Seen;
import dev.tcpscope.testing.Seen.End;

/**
 * What a peer saw when it read a stream to its end, summarised for the {@link Patterns stream
 * pattern}: how many bytes, their digest, and how the stream ended. The Python peer reports
 * exactly this (it does not send MiBs back); a JDK peer's {@link Seen} is summarised the same
 * way ({@link #of}), so both are checked alike.
 *
 * @param bytes   bytes read before the end
 * @param sha256  hex SHA-256 of those bytes
 * @param end     {@link End#EOF} (the other side sent FIN), {@link End#RESET} (it sent RST), or
 *                {@link End#ERROR}
 * @param failure the exception that ended the reading, or {@code null} for EOF
 */
public record Received(long bytes, String sha256, End end, Throwable failure) {

    /** {@return whether these are exactly the first {@code length} bytes of the pattern} */
    public boolean isPattern(long length) {
        return bytes == length && sha256.equals(Patterns.sha256(length));
    }

    /** {@return whether the bytes are the pattern's first {@link #bytes()} bytes} */
    public boolean isPatternPrefix() {
        return sha256.equals(Patterns.sha256(bytes));
    }

    /** {@return the summary of what a JDK peer saw} */
    public static Received of(Seen seen) {
        return new Received(seen.data().length, Patterns.sha256(seen.data()), seen.end(), seen.failure());
    }

    /** Parses a line of {@code peer.py}: {@code EOF <n> <sha256>} or {@code RST <n> <sha256>}. */
    public static Received parsePython(String line) {
        String[] f = line.split(" ");
        if (f.length != 3 || !(f[0].equals("EOF") || f[0].equals("RST"))) {
            throw new IllegalArgumentException("not a peer.py result line: " + line);
        }
        return new Received(Long.parseLong(f[1]), f[2], f[0].equals("EOF") ? End.EOF : End.RESET, null);
    }

    @Override
    public String toString() {
        return end + " after " + bytes + " bytes" + (failure != null ? " (" + failure + ")" : "");
    }
}
