package dev.tcpscope;

import dev.tcpscope.peers.Pair;
import dev.tcpscope.peers.Pair.Side;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Patterns;
import dev.tcpscope.testing.Seen;
import dev.tcpscope.testing.TransportUnderTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ScatteringByteChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link TcpConnection#write(ByteBuffer...)} and {@link TcpConnection#read(ByteBuffer...)}
 * (writev/readv on native, the JDK's gathering channel write on portable), seen from a JDK peer.
 * Runs on both transports.
 *
 * <p>Checked by breaking on purpose, then restoring: VectoredIo.write advancing (index, offset)
 * by one byte less than writev returned ({@code everyBufferArrivesInOrder...} and
 * {@code theChannelView...} time out: the write sends more than the buffers hold); the staging
 * copy of a heap segment taken from the segment's start instead of its offset
 * ({@code everyBufferArrivesInOrder...} fails: first difference at byte 32,741, after the first
 * short write); copyBack
 * skipped (the scattering read's heap buffers stay zero: {@code aScatteringRead...} fails); the
 * positions not advanced after a gathering write ({@code positions} assertions fail); the portable
 * gathering write stopping once its last buffer is empty (as it first did: a trailing empty buffer
 * sent nothing; {@code theChannelView...} fails on portable).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GatheringScatteringTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    /**
     * Heap and direct buffers, empty ones among them, one heap buffer larger than the 128 KiB
     * staged per call, through a 4 KiB send buffer while the peer reads: many partial writes, and
     * the peer reads every byte in order, then FIN after finish().
     */
    @Test
    void everyBufferArrivesInOrderThroughPartialWritesThenFin() throws Exception {
        try (Pair p = Pair.open(Side.CONNECTED)) {
            TcpConnection conn = p.connection();
            SendBuffers.set(conn, 4096);
            byte[] all = Patterns.bytes(0, 10 + 700_000 + 300_000 + 5);
            ByteBuffer header = ByteBuffer.wrap(all, 0, 10).slice();
            ByteBuffer bigHeap = ByteBuffer.wrap(all, 10, 700_000).slice();
            ByteBuffer direct = ByteBuffer.allocateDirect(300_000).put(all, 700_010, 300_000).flip();
            ByteBuffer tail = ByteBuffer.allocate(5).put(all, 1_000_010, 5).flip();
            CompletableFuture<Seen> seen = p.peer().readToEndAsync();
            long n = conn.write(header, ByteBuffer.allocate(0), bigHeap, direct, ByteBuffer.allocateDirect(0), tail);
            assertEquals(all.length, n);
            for (ByteBuffer b : new ByteBuffer[] {header, bigHeap, direct, tail}) {
                assertFalse(b.hasRemaining(), "positions advance to the limit: " + b);
            }
            assertEquals(all.length, conn.bytesWritten());
            TransportUnderTest.assertDelivered(conn.finish());
            seen.get(60, TimeUnit.SECONDS).assertEof(all);
        }
    }

    /** More buffers than one call takes (64 iovec entries on native): every byte, in order. */
    @Test
    void moreBuffersThanOneCallTakes() throws Exception {
        try (Pair p = Pair.open(Side.ACCEPTED)) {
            byte[] all = Patterns.bytes(0, 200 * 37);
            ByteBuffer[] buffers = new ByteBuffer[200];
            for (int i = 0; i < buffers.length; i++) {
                buffers[i] = i % 2 == 0 ? ByteBuffer.wrap(all, i * 37, 37).slice()
                        : ByteBuffer.allocateDirect(37).put(all, i * 37, 37).flip();
            }
            assertEquals(all.length, p.connection().write(buffers));
            assertArrayEquals(all, p.peer().readExactly(all.length));
        }
    }

    /** The channel view gathers and scatters, with an offset and length into the arrays. */
    @Test
    void theChannelViewGathersAndScatters() throws Exception {
        try (Pair p = Pair.open(Side.ACCEPTED)) {
            var channel = p.connection().channel();
            byte[] all = Patterns.bytes(0, 300);
            ByteBuffer[] srcs = {ByteBuffer.allocate(1), ByteBuffer.wrap(all, 0, 100), ByteBuffer.wrap(all, 100, 200)};
            assertEquals(300, ((GatheringByteChannel) channel).write(srcs, 1, 2));
            assertArrayEquals(all, p.peer().readExactly(300));
            // A trailing empty buffer: every byte before it is still sent.
            assertEquals(300, p.connection().write(ByteBuffer.wrap(all), ByteBuffer.allocate(0)));
            assertArrayEquals(all, p.peer().readExactly(300));

            p.peer().write(all);
            ByteBuffer first = ByteBuffer.allocate(100);
            ByteBuffer second = ByteBuffer.allocateDirect(200);
            long got = 0;
            while (got < 300) {
                got += ((ScatteringByteChannel) channel).read(new ByteBuffer[] {first, second}, 0, 2);
            }
            byte[] back = new byte[300];
            first.flip().get(back, 0, 100);
            second.flip().get(back, 100, 200);
            assertArrayEquals(all, back);
        }
    }

    /**
     * A scattering read fills heap and direct buffers in order, and returns -1 only after every
     * byte, for the peer's FIN; a reset instead throws.
     */
    @Test
    void aScatteringReadFillsInOrderThenReadsFin() throws Exception {
        try (Pair p = Pair.open(Side.CONNECTED)) {
            TcpConnection conn = p.connection();
            conn.readTimeout(Duration.ofSeconds(30));
            int total = 1 << 20;
            p.peer().writeAsync(Patterns.bytes(0, total)).thenRun(() -> {
                try {
                    p.peer().sendFin();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            while (true) {
                ByteBuffer a = ByteBuffer.allocate(7);
                ByteBuffer b = ByteBuffer.allocateDirect(9000);
                ByteBuffer c = ByteBuffer.allocate(200_000);
                long n = conn.read(a, b, c);
                if (n < 0) {
                    break;
                }
                assertEquals(n, a.position() + b.position() + c.position(), "positions advance by what was read");
                if (b.position() > 0) {
                    assertFalse(a.hasRemaining(), "a later buffer gets bytes only once the earlier ones are full");
                }
                if (c.position() > 0) {
                    assertFalse(b.hasRemaining(), "a later buffer gets bytes only once the earlier ones are full");
                }
                for (ByteBuffer x : new ByteBuffer[] {a, b, c}) {
                    byte[] part = new byte[x.position()];
                    x.flip().get(part);
                    received.writeBytes(part);
                }
            }
            assertArrayEquals(Patterns.bytes(0, total), received.toByteArray());
            assertEquals(-1, conn.read(ByteBuffer.allocate(10), ByteBuffer.allocate(10)), "-1 again");
        }
    }

    /** A reset arriving while a scattering read waits is a ConnectionResetException, not -1. */
    @Test
    void aResetDuringAScatteringReadThrows() throws Exception {
        try (Pair p = Pair.open(Side.CONNECTED)) {
            TcpConnection conn = p.connection();
            p.peer().write(new byte[] {1, 2, 3});
            p.peer().reset();
            ByteBuffer a = ByteBuffer.allocate(2);
            ByteBuffer b = ByteBuffer.allocateDirect(2);
            long got = 0;
            try {
                while (got < 3) {
                    got += conn.read(a, b);
                }
            } catch (ConnectionResetException resetBeforeTheBytes) {
                // the kernel may drop the queued bytes with the reset; the reset itself must show
            }
            assertThrows(ConnectionResetException.class, () -> conn.read(ByteBuffer.allocate(4), ByteBuffer.allocate(4)));
        }
    }

    /** Gathering writes after a reset throw it (the remembered error), and the peer saw RST on abort. */
    @Test
    void aGatheringWriteToAResetPeerThrowsTheReset() throws Exception {
        try (Pair p = Pair.open(Side.ACCEPTED)) {
            TcpConnection conn = p.connection();
            p.peer().reset();
            assertThrows(ConnectionResetException.class, () -> {
                for (int i = 0; i < 1000; i++) {
                    conn.write(ByteBuffer.allocate(1000), ByteBuffer.allocateDirect(1000));
                }
            });
            assertThrows(ConnectionResetException.class, () -> conn.write(ByteBuffer.allocate(1)));
        }
    }
}
