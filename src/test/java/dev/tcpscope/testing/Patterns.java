package dev.tcpscope.testing;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The test data the suites send, so that a peer can tell the bytes it got are the bytes sent.
 *
 * <p>The stream pattern: byte {@code i} of a stream is {@code i % 251}. 251 is prime, so no chunk
 * size lines up with it and a lost, repeated or reordered chunk changes the digest; a peer can
 * check any amount against it by length and digest alone. The Python peer ({@code peer.py})
 * uses the same pattern.
 *
 * <p>{@link #seeded}: a message that differs per seed, for tests that compare whole byte arrays
 * and must tell one connection's bytes from another's.
 */
public final class Patterns {

    /** The period of the pattern. */
    public static final int PERIOD = 251;

    private Patterns() {}

    /** {@return {@code length} pattern bytes starting at stream offset {@code offset}} */
    public static byte[] bytes(long offset, int length) {
        byte[] b = new byte[length];
        int v = (int) (offset % PERIOD);
        for (int i = 0; i < length; i++) {
            b[i] = (byte) v;
            if (++v == PERIOD) {
                v = 0;
            }
        }
        return b;
    }

    /**
     * {@return {@code length} pseudo-random bytes (xorshift), the same for the same {@code seed}
     * and different for different seeds}
     */
    public static byte[] seeded(int length, int seed) {
        byte[] bytes = new byte[length];
        int x = seed * 0x9E3779B9 + 1;
        for (int i = 0; i < length; i++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            bytes[i] = (byte) x;
        }
        return bytes;
    }

    /** {@return the hex SHA-256 of {@code bytes}} */
    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(newDigest().digest(bytes));
    }

    /** {@return the hex SHA-256 of the first {@code length} bytes of the pattern} */
    public static String sha256(long length) {
        MessageDigest digest = newDigest();
        int chunk = PERIOD * 4096;
        byte[] block = bytes(0, chunk);
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(chunk, length - done);
            digest.update(block, 0, n);
            done += n;
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** {@return a fresh SHA-256 digest} */
    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Writes {@code total} pattern bytes with {@code writer}, in chunks of about 64 KiB. */
    public static void write(long total, ChunkWriter writer) throws java.io.IOException {
        int chunk = PERIOD * 256; // 64,256 bytes: each chunk starts at a multiple of the period
        byte[] block = bytes(0, chunk);
        for (long done = 0; done < total; ) {
            int n = (int) Math.min(chunk, total - done);
            writer.write(block, 0, n);
            done += n;
        }
    }

    /** Something that writes bytes, e.g. {@code connection::write} or an OutputStream. */
    @FunctionalInterface
    public interface ChunkWriter {
        void write(byte[] bytes, int offset, int length) throws java.io.IOException;
    }
}
