package dev.tcpscope;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.transport.StreamSocket;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The bodies of {@link TcpConnection}'s vectored and zero-copy methods: gathering writes,
 * scattering reads, sending a file, and the pump from one connection to another. Each goes through
 * the same gates as a plain read or write: the output lock, the checks and the poisoning of
 * {@link ConnectionOutput} for everything that sends, the input's half-close for reads.
 */
final class ConnectionTransfers {

    private ConnectionTransfers() {}

    /** Gathering write: every buffer's remaining bytes, in order; positions advance by what was sent. */
    static long write(ConnectionOutput output, StreamSocket socket, ByteBuffer[] buffers, long deadline)
            throws IOException {
        MemorySegment[] segments = segments(buffers, false);
        return output.send(() -> {
            long before = socket.bytesWritten(); // under the output lock: the difference is ours
            try {
                socket.writeGathering(segments, deadline);
            } finally {
                advance(buffers, socket.bytesWritten() - before);
            }
            return socket.bytesWritten() - before;
        }, "write", deadline);
    }

    /** Scattering read: fills the buffers in order; positions advance by what was read. */
    static long read(StreamSocket socket, ConnectionInput input, ConnectionEnder ender, boolean inputShutDown,
                     ByteBuffer[] buffers, long deadline) throws IOException {
        MemorySegment[] segments = segments(buffers, true);
        if (inputShutDown) {
            ender.throwIfEnded("read");
            return -1;
        }
        if (input.buffered() > 0) {
            // Bytes the stream view took from the socket come first, as for any read; the call
            // returns with them rather than wait for more.
            long taken = 0;
            for (MemorySegment segment : segments) {
                int n = input.takeBuffered(segment, deadline);
                taken += n;
                if (n < segment.byteSize()) {
                    break;
                }
            }
            if (taken > 0) {
                advance(buffers, taken);
                return taken;
            }
        }
        long n = socket.readScattering(segments, deadline);
        if (n > 0) {
            advance(buffers, n);
        }
        return n;
    }

    /** Sends a file: {@code count} bytes from {@code position}, or to its end when {@code count} is -1. */
    static long sendFile(ConnectionOutput output, StreamSocket socket, Path file, long position, long count,
                         long deadline) throws IOException {
        Objects.requireNonNull(file, "file");
        if (position < 0 || count < -1) {
            throw new IllegalArgumentException("position must be >= 0 and count >= 0 (or -1 for the rest): "
                    + position + ", " + count);
        }
        if (count == 0) {
            return 0;
        }
        return output.send(() -> socket.sendFile(file, position, count, deadline), "sendFile", deadline);
    }

    /** The pump: {@code source}'s input to {@code target} until {@code source}'s FIN. */
    static long transfer(TcpConnection source, StreamSocket sourceSocket, ConnectionInput sourceInput,
                         ConnectionEnder sourceEnder, boolean sourceInputShutDown, TcpConnection target,
                         Duration readTimeout, Duration writeTimeout) throws IOException {
        Objects.requireNonNull(target, "target");
        if (target == source) {
            throw new IllegalArgumentException("a connection cannot transfer to itself");
        }
        if (sourceInputShutDown) {
            sourceEnder.throwIfEnded("transferTo");
            return 0;
        }
        // Bytes the source's stream view already took from its socket go first, through the
        // target's ordinary write: the pump below moves only what is still in the kernel.
        long moved = 0;
        while (sourceInput.buffered() > 0) {
            byte[] chunk = new byte[sourceInput.buffered()];
            int n = sourceInput.takeBuffered(MemorySegment.ofArray(chunk), Deadline.after(readTimeout));
            if (n > 0) {
                target.write(chunk, 0, n);
                moved += n;
            }
        }
        StreamSocket targetSocket = target.transportSocket();
        return moved + target.output().pump(() -> sourceSocket.transferTo(targetSocket, readTimeout, writeTimeout),
                "transferTo", Deadline.after(writeTimeout));
    }

    private static MemorySegment[] segments(ByteBuffer[] buffers, boolean forReading) {
        Objects.requireNonNull(buffers, "buffers");
        MemorySegment[] segments = new MemorySegment[buffers.length];
        for (int i = 0; i < buffers.length; i++) {
            ByteBuffer buffer = Objects.requireNonNull(buffers[i], "buffers[" + i + "]");
            if (forReading && buffer.isReadOnly()) {
                throw new IllegalArgumentException("cannot read into a read-only buffer (buffers[" + i + "])");
            }
            segments[i] = MemorySegment.ofBuffer(buffer); // from its position to its limit
        }
        return segments;
    }

    /** Advances the buffers' positions by {@code n} bytes, filling (or emptying) them in order. */
    private static void advance(ByteBuffer[] buffers, long n) {
        for (int i = 0; i < buffers.length && n > 0; i++) {
            int step = (int) Math.min(buffers[i].remaining(), n);
            buffers[i].position(buffers[i].position() + step);
            n -= step;
        }
    }
}
