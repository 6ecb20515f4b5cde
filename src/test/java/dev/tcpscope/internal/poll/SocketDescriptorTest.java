package dev.tcpscope.internal.poll;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.SystemCallException;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.SocketAddresses;
import dev.tcpscope.internal.socket.NativeSocket;
import dev.tcpscope.testing.DescriptorCounts;
import dev.tcpscope.testing.FaultInjectingSyscalls;
import dev.tcpscope.testing.FaultInjectingSyscalls.Call;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Descriptor safety and accounting: close(2) happens exactly once, only when no thread holds a
 * reference, and {@link SocketDescriptor#openedCount()} / {@link SocketDescriptor#releasedCount()}
 * move in step with what the kernel shows in /proc/self/fd.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SocketDescriptorTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    @Test
    void openAndCloseAreCountedAndSeenByTheKernel() throws Exception {
        DescriptorCounts counts = DescriptorCounts.now();
        int socketsBefore = OpenSockets.count();
        NativeSocket socket = NativeSocket.open(LinuxSyscalls.INSTANCE, Poller.shared(), SocketAddresses.AF_INET);
        int fd = Loopback.fd(socket);
        assertTrue(OpenSockets.target(fd).orElseThrow().startsWith("socket:"));
        assertEquals(socketsBefore + 1, OpenSockets.count());
        assertEquals(1, counts.openedSince());
        assertEquals(0, counts.releasedSince());

        assertTrue(socket.close("closed by test", null));

        assertTrue(socket.descriptor().isReleased());
        assertEquals(1, counts.releasedSince());
        assertEquals(socketsBefore, OpenSockets.count());
    }

    @Test
    void aHeldReferenceKeepsTheNumberUntilItIsReleased() throws Exception {
        DescriptorCounts counts = DescriptorCounts.now();
        NativeSocket socket = NativeSocket.open(LinuxSyscalls.INSTANCE, Poller.shared(), SocketAddresses.AF_INET);
        SocketDescriptor descriptor = socket.descriptor();
        int fd = descriptor.acquire();
        String inode = OpenSockets.target(fd).orElseThrow();

        assertTrue(socket.close("closed by test", null));
        assertTrue(descriptor.isClosed());
        assertFalse(descriptor.isReleased(), "a thread still holds the number");
        assertEquals(inode, OpenSockets.target(fd).orElse(null), "the number still names our socket");
        assertEquals(0, counts.releasedSince());
        var e = assertThrowsExactly(ConnectionClosedException.class, descriptor::acquire);
        assertTrue(e.getMessage().contains("closed by test"), e.getMessage());

        descriptor.release(); // the last reference: close(2) now, on this thread

        assertTrue(descriptor.isReleased());
        assertEquals(1, counts.releasedSince());
        assertFalse(OpenSockets.target(fd).filter(inode::equals).isPresent());
    }

    @Test
    void closeIsIdempotentAndTheFirstReasonWins() throws Exception {
        var sys = new FaultInjectingSyscalls();
        NativeSocket socket = NativeSocket.open(sys, Poller.shared(), SocketAddresses.AF_INET);
        Exception reason = new Exception("first reason");

        assertTrue(socket.close("aborted", reason));
        assertFalse(socket.close("closed again", new Exception("second reason")));
        assertFalse(socket.close("and again", null));

        assertEquals(1, sys.calls(Call.CLOSE), "close(2) exactly once");
        var e = assertThrowsExactly(ConnectionClosedException.class,
                () -> socket.read(MemorySegment.ofArray(new byte[8]), Deadline.NONE));
        assertTrue(e.getMessage().contains("aborted"), e.getMessage());
        assertSame(reason, e.getCause());
    }

    /**
     * The reader parked in the poller holds a reference: the closer only marks the descriptor
     * closed and wakes it; close(2) follows when the woken reader lets go.
     */
    @Test
    void theLastReferenceHolderClosesTheNumber() throws Exception {
        var sys = new FaultInjectingSyscalls();
        DescriptorCounts counts = DescriptorCounts.now();
        try (Loopback.Pair pair = Loopback.Pair.open(sys)) {
            Forked<Integer> reader = Forked.start(Forked.Kind.VIRTUAL, "reader",
                    () -> pair.client().read(MemorySegment.ofArray(new byte[8]), Deadline.NONE));
            Parked.await(reader.thread());
            long closesBefore = sys.calls(Call.CLOSE);

            pair.client().close("closed by test", null);
            reader.await().assertThrowsExactly(ConnectionClosedException.class);

            assertTrue(pair.client().descriptor().isReleased());
            assertEquals(1, sys.calls(Call.CLOSE) - closesBefore);
        }
        counts.awaitAllReleased("pair");
        assertEquals(3, counts.openedSince(), "listener, client, accepted");
    }

    /**
     * A release() with no reference held is refused without touching the state word. Checked by
     * restoring the old decrement-then-check release(): the word borrowed into the closed and
     * destroyed bits, so the descriptor read as closed and close(2) never ran (the first assert
     * failed, and the class's open-socket check reported the leaked socket).
     */
    @Test
    void releaseWithoutAcquireIsRefusedAndTheDescriptorStillCloses() throws Exception {
        var sys = new FaultInjectingSyscalls();
        NativeSocket socket = NativeSocket.open(sys, Poller.shared(), SocketAddresses.AF_INET);
        SocketDescriptor descriptor = socket.descriptor();

        var e = assertThrowsExactly(IllegalStateException.class, descriptor::release);
        assertTrue(e.getMessage().contains("without acquire"), e.getMessage());
        assertFalse(descriptor.isClosed(), "a refused release() leaves the descriptor as it was");

        int fd = descriptor.acquire();
        descriptor.release();
        assertTrue(fd >= 0);
        assertTrue(socket.close("closed by test", null));
        assertTrue(descriptor.isReleased());
        assertEquals(1, sys.calls(Call.CLOSE), "close(2) exactly once");
        assertThrowsExactly(IllegalStateException.class, descriptor::release,
                "a release after the last one is refused too");
        assertEquals(1, sys.calls(Call.CLOSE));
    }

    @Test
    void failedSocketCreationOpensNothing() {
        var sys = new FaultInjectingSyscalls();
        DescriptorCounts counts = DescriptorCounts.now();
        sys.inject(Call.SOCKET, Errno.ENFILE, 1);
        assertThrowsExactly(SystemCallException.class,
                () -> NativeSocket.open(sys, Poller.shared(), SocketAddresses.AF_INET));
        assertEquals(0, counts.openedSince());
    }

    /** Not a test of the layer: checks that the extension's baseline tracks the JDK's sockets too. */
    @Test
    void openSocketsCountsJdkSocketsToo() throws IOException {
        int before = OpenSockets.count();
        try (var ignored = new ServerSocket(0, 1, Loopback.IPV4)) {
            assertEquals(before + 1, OpenSockets.count());
        }
        assertEquals(before, OpenSockets.count());
    }
}
