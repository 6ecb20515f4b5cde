package dev.tcpscope.peers;

/**
 * What a peer saw when it read a stream to its end: how many bytes, their digest, and how the
 * stream ended.
 *
 * @param bytes   bytes read before the end
 * @param sha256  hex SHA-256 of those bytes
 * @param end     {@link End#EOF} (the other side sent FIN), {@link End#RESET} (it sent RST), or
 *                {@link End#ERROR}
 * @param failure the exception that ended the reading, or {@code null} for EOF
 */
public record Received(long bytes, String sha256, End end, Throwable failure) {

    /** How the stream ended, from the reader's side. */
    public enum End { EOF, RESET, ERROR }

    /** {@return whether these are exactly the first {@code length} bytes of the pattern} */
    public boolean isPattern(long length) {
        return bytes == length && sha256.equals(Patterns.sha256(length));
    }

    /** {@return whether the bytes are the pattern's first {@link #bytes()} bytes} */
    public boolean isPatternPrefix() {
        return sha256.equals(Patterns.sha256(bytes));
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
