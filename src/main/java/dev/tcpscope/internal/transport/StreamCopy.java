package dev.tcpscope.internal.transport;

import dev.tcpscope.internal.poll.Deadline;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * The copy loop behind {@link StreamSocket#transferTo}: what a relay does without splice(2) —
 * the portable transport's pump, and the native one's when the target is not native.
 *
 * <p>Each chunk read is written before the next read, so the target has every byte the source
 * delivered before its ending: a FIN ends the loop normally (after every byte), a reset throws
 * from the source's read, a failed write throws from the target's.
 */
final class StreamCopy {

    /** 64 KiB: the chunk of a loopback relay, as the benchmark's bulk transfer writes. */
    static final int CHUNK = 64 * 1024;

    private StreamCopy() {}

    static long copy(StreamSocket source, StreamSocket target, Duration readTimeout, Duration writeTimeout)
            throws IOException {
        MemorySegment buffer = MemorySegment.ofArray(new byte[CHUNK]);
        long moved = 0;
        while (true) {
            int n = source.read(buffer, Deadline.after(readTimeout));
            if (n < 0) {
                return moved; // the peer's FIN: a reset would have thrown (remembered-error rule)
            }
            target.write(buffer.asSlice(0, n), Deadline.after(writeTimeout));
            moved += n;
        }
    }
}
