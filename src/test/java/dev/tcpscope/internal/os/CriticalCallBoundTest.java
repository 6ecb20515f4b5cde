package dev.tcpscope.internal.os;

import dev.tcpscope.internal.socket.SocketOptions;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Patterns;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A critical downcall keeps its thread in the Java state, so a safepoint waits for the whole
 * system call: {@link LinuxSyscalls} moves at most {@link LinuxSyscalls#MAX_CRITICAL_BYTES} per
 * recv or send of a heap segment, while native segments, linked without {@code critical}, go
 * unbounded. Checked with sends and receives of 1 MiB on a pair whose send buffer holds far more;
 * the socket layer above loops on the short counts (its megabyte transfers in EchoTest and the
 * connection tests cover that the bytes all arrive, in order).
 *
 * <p>Checked: with the bound removed (heap segments passed whole), the heap send and the heap
 * recv each moved 1 MiB in one call and the test failed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CriticalCallBoundTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final int MIB = 1 << 20;

    @Test
    void heapTransfersAreBoundedPerCallNativeOnesAreNot() throws Exception {
        LinuxSyscalls sys = LinuxSyscalls.INSTANCE;
        // Buffers far larger than one bounded call (the kernel clamps them to net.core.wmem_max and
        // rmem_max, at least 208 KiB, doubled), so that an unbounded call would move more.
        try (Loopback.Pair pair = Loopback.Pair.open(sys,
                l -> l.options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_RCVBUF, 4 * MIB),
                s -> s.options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_SNDBUF, 4 * MIB));
             Arena arena = Arena.ofConfined()) {
            int client = Loopback.fd(pair.client());
            int server = Loopback.fd(pair.server());

            long sentFromHeap = sys.send(client, MemorySegment.ofArray(Patterns.bytes(0, MIB)));
            assertEquals(LinuxSyscalls.MAX_CRITICAL_BYTES, sentFromHeap, "one critical send, bounded");

            MemorySegment nativeOut = arena.allocate(MIB);
            nativeOut.copyFrom(MemorySegment.ofArray(Patterns.bytes(sentFromHeap, MIB)));
            long sentFromNative = sys.send(client, nativeOut);
            assertTrue(sentFromNative > LinuxSyscalls.MAX_CRITICAL_BYTES,
                    () -> "a native send is not bounded, and the send buffer had room: sent " + sentFromNative);

            Await.until("more than one bounded call's worth queued at the receiver",
                    () -> unread(pair) > LinuxSyscalls.MAX_CRITICAL_BYTES);
            byte[] into = new byte[MIB];
            long readIntoHeap = sys.recv(server, MemorySegment.ofArray(into));
            assertEquals(LinuxSyscalls.MAX_CRITICAL_BYTES, readIntoHeap, "one critical recv, bounded");
            assertArrayEquals(Patterns.bytes(0, (int) readIntoHeap), Arrays.copyOf(into, (int) readIntoHeap));

            Await.until("again more than one bounded call's worth queued at the receiver",
                    () -> unread(pair) > LinuxSyscalls.MAX_CRITICAL_BYTES);
            MemorySegment nativeIn = arena.allocate(MIB);
            long readIntoNative = sys.recv(server, nativeIn);
            assertTrue(readIntoNative > LinuxSyscalls.MAX_CRITICAL_BYTES,
                    () -> "a native recv is not bounded: read " + readIntoNative);
            assertArrayEquals(Patterns.bytes(readIntoHeap, (int) readIntoNative),
                    nativeIn.asSlice(0, readIntoNative).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    private static long unread(Loopback.Pair pair) {
        try {
            return pair.server().options().unread();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
