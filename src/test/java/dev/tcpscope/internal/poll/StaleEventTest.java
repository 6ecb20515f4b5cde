package dev.tcpscope.internal.poll;

import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.SocketAddresses;
import dev.tcpscope.internal.socket.NativeSocket;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.OpenSockets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The guard of Go's issue 59545: an epoll event still in flight for a closed descriptor carries
 * the old key, and must not wake the waiter of a newer descriptor that reuses its slot (and, in
 * practice, its number).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StaleEventTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final int READABLE = dev.tcpscope.internal.ffi.x86_64.Libc.EPOLLIN();

    @Test
    void anEventForAClosedDescriptorDoesNotReachTheNewOwnerOfItsSlot() throws Exception {
        Poller poller = Poller.shared();
        NativeSocket old = NativeSocket.open(LinuxSyscalls.INSTANCE, poller, SocketAddresses.AF_INET);
        long oldKey = old.descriptor().pollKey();
        old.close("closed by the test", null);
        assertTrue(old.descriptor().isReleased(), "no reference held: close(2) done at once");

        NativeSocket reuser = NativeSocket.open(LinuxSyscalls.INSTANCE, poller, SocketAddresses.AF_INET);
        try {
            long newKey = reuser.descriptor().pollKey();
            assertEquals((int) oldKey, (int) newKey, "the freed slot is reused (same index)");
            assertNotEquals(oldKey, newKey, "with a new generation");
            // A fresh, unconnected socket reports EPOLLHUP once when it is registered: wait for
            // that edge to arrive through the poller, then forget it.
            Await.until("the registration's own first edge", () -> reuser.descriptor().readable.hasPendingEdge());
            reuser.descriptor().readable.clear();

            poller.dispatch(oldKey, READABLE); // the stale event
            assertFalse(reuser.descriptor().readable.hasPendingEdge(), "a stale event reached the new descriptor");

            poller.dispatch(newKey, READABLE); // its own event does
            assertTrue(reuser.descriptor().readable.hasPendingEdge(), "the descriptor's own event was dropped");
        } finally {
            reuser.close("closed by the test", null);
        }
    }
}
