package dev.tcpscope.bench.peers;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * The protocol of the bulk benchmarks (bulk transfer, relay) on the JDK's channels: the sender
 * writes rounds of {@link #ROUND_BYTES} in {@link #CHUNK}-byte writes, and the receiver answers
 * each whole round with one byte, so that a round counts only once every byte arrived.
 */
public final class AcknowledgedRounds {

    /** MiB per round (the benchmarks' operations per invocation). */
    public static final int ROUND_MIB = 8;
    /** Bytes per round. */
    public static final int ROUND_BYTES = ROUND_MIB << 20;
    /** Bytes per write. */
    public static final int CHUNK = 64 * 1024;

    private AcknowledgedRounds() {}

    /** The receiver: reads until EOF, acknowledging every round with one byte. */
    public static void receive(SocketChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
        ByteBuffer ack = ByteBuffer.allocateDirect(1);
        int received = 0;
        int n;
        while ((n = channel.read(buffer)) >= 0) {
            buffer.clear();
            received += n;
            if (received == ROUND_BYTES) {
                ack.clear();
                while (ack.hasRemaining()) {
                    channel.write(ack);
                }
                received = 0;
            }
        }
    }

    /**
     * The sender: one round of {@code chunk} writes (its capacity must be {@link #CHUNK}), then the
     * acknowledgement read into {@code ack}.
     *
     * @param receiver who acknowledges, named in the exception if nobody does
     * @return the acknowledgement byte
     */
    public static int send(SocketChannel channel, ByteBuffer chunk, ByteBuffer ack, String receiver) throws IOException {
        for (int sent = 0; sent < ROUND_BYTES; sent += CHUNK) {
            chunk.clear();
            while (chunk.hasRemaining()) {
                channel.write(chunk);
            }
        }
        ack.clear();
        if (channel.read(ack) != 1) {
            throw new EOFException("no acknowledgement from the " + receiver);
        }
        return ack.get(0);
    }
}
