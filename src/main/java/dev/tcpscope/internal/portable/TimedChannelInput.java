package dev.tcpscope.internal.portable;

import dev.tcpscope.internal.poll.Deadline;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.SocketTimeoutException;
import java.nio.channels.SocketChannel;

/**
 * Reads of a blocking {@link SocketChannel} that end by a deadline: through the channel's socket
 * adaptor, whose SO_TIMEOUT is set from the deadline before each read (a blocking channel read
 * has no timeout; see {@link PortableSocket}, "Deadlines"). Used under the socket's read lock.
 */
final class TimedChannelInput {

    private static final int SCRATCH_BYTES = 64 * 1024;

    private final SocketChannel channel;
    private final InputStream timedInput; // the socket adaptor's stream: reads honour SO_TIMEOUT
    private byte[] scratch; // under readLock: for segments that are not on a byte[]

    TimedChannelInput(SocketChannel channel) throws IOException {
        this.channel = channel;
        this.timedInput = channel.socket().getInputStream();
    }

    /** One timed read through the socket adaptor; {@return bytes read (at least 1) or -1} */
    int readOnce(MemorySegment buffer, long deadline) throws IOException {
        int length = (int) Math.min(buffer.byteSize(), Integer.MAX_VALUE);
        channel.socket().setSoTimeout(timeoutMillis(deadline));
        if (buffer.heapBase().orElse(null) instanceof byte[] array) {
            return timedInput.read(array, (int) buffer.address(), length); // heap segment: address() is the offset
        }
        if (scratch == null) {
            scratch = new byte[SCRATCH_BYTES];
        }
        int n = timedInput.read(scratch, 0, Math.min(length, scratch.length));
        if (n > 0) {
            MemorySegment.copy(scratch, 0, buffer, ValueLayout.JAVA_BYTE, 0, n);
        }
        return n;
    }

    /** {@return received bytes not yet read} */
    int available() throws IOException {
        return timedInput.available();
    }

    /** {@return SO_TIMEOUT for {@code deadline}: 0 for none, else at least 1 ms, rounded up} */
    private static int timeoutMillis(long deadline) throws SocketTimeoutException {
        if (deadline == Deadline.NONE) {
            return 0;
        }
        long nanos = Deadline.remainingNanos(deadline);
        if (nanos <= 0) {
            return 1; // passed: still take what is already there, like the native transport
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, (nanos + 999_999) / 1_000_000));
    }
}
