package dev.tcpscope.oracle;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.testing.Patterns;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

/**
 * The I/O of the program on our side, the same on every path: write the pattern in chunks, read
 * what the peer sends (checking it against the pattern), or block until the library ends the
 * connection. Every read and write is bounded by {@link #GUARD}: only a hang comes near it, and
 * a guard timeout is reported as one.
 */
final class ProgramIo {

    /** Read and write timeout of every connection of the program. */
    static final Duration GUARD = Duration.ofSeconds(20);

    private static final byte[] BLOCK = Patterns.bytes(0, Patterns.PERIOD * 257);
    private static final int MAX_WRITE = Patterns.PERIOD * 256;

    private ProgramIo() {}

    /** Sets the guard timeouts on a connection the program just got. */
    static void prepare(TcpConnection c) {
        c.readTimeout(GUARD);
        c.writeTimeout(GUARD);
    }

    /** Writes the first {@code size} bytes of the pattern, {@code chunk} bytes per call. */
    static void write(TcpConnection c, long size, int chunk) throws IOException {
        for (long done = 0; done < size; ) {
            int n = (int) Math.min(Math.min(chunk, MAX_WRITE), size - done);
            c.write(BLOCK, (int) (done % Patterns.PERIOD), n);
            done += n;
        }
    }

    /**
     * Reads {@code count} bytes, or, with {@code toEnd}, until read() returns -1 or throws.
     *
     * @return what was read and how it ended (never throws)
     */
    static ReadRecord read(TcpConnection c, long count, boolean toEnd) {
        CRC32 crc = new CRC32();
        byte[] buffer = new byte[16 * 1024];
        long total = 0;
        try {
            while (toEnd || total < count) {
                int want = toEnd ? buffer.length : (int) Math.min(buffer.length, count - total);
                int n = c.read(buffer, 0, want);
                if (n < 0) {
                    return new ReadRecord(total, crc.getValue(), ReadRecord.End.EOF, null);
                }
                crc.update(buffer, 0, n);
                total += n;
            }
            return new ReadRecord(total, crc.getValue(), ReadRecord.End.COUNT, null);
        } catch (IOException | RuntimeException e) {
            return new ReadRecord(total, crc.getValue(), ReadRecord.End.of(e), e);
        }
    }

    /**
     * Blocks until the library ends the connection (a scope timeout, a limit, a shutdown) or the
     * thread is interrupted: reads and discards until the peer's end, then waits.
     */
    static void block(TcpConnection c) throws IOException, InterruptedException {
        byte[] buffer = new byte[8192];
        while (c.read(buffer) >= 0) {
            // discard
        }
        // The peer half-closed: nothing more to read; wait to be ended (interrupted).
        if (!new CountDownLatch(1).await(GUARD.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new SocketTimeoutException("guard: nothing ended the blocked program");
        }
    }
}
