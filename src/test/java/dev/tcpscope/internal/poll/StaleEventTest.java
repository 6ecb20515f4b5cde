package dev.tcpscope.internal.poll;

import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.SocketAddresses;
import dev.tcpscope.internal.socket.NativeSocket;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.OpenSockets;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The guard of Go's issue 59545: an epoll event still in flight for a closed descriptor carries
 * the old key, and must not wake the waiter of a newer descriptor that reuses its slot (and, in
 * practice, its number).
 *
 * <p>The test does not assume which slot the next registration gets: the poller hands out freed
 * slots last-in first-out, but any other thread may free one meanwhile (a {@code Cleaner} closing
 * a connection leaked by an earlier test class) or take the freed one. So it opens sockets until
 * one holds the old slot index, keeping the others open so that they hold the slots freed in
 * between, and starts over with a new closed descriptor if another thread took the slot. The
 * {@code true} case frees another slot right after the close, as such a Cleaner would: with a
 * single open per attempt, as the previous version of this test did, that case fails.
 *
 * <p>Checked: with {@code Poller.dispatch} no longer comparing the event's key with the
 * descriptor's (the slot alone decides), both cases failed "a stale event reached the new
 * descriptor".
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StaleEventTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final int READABLE = dev.tcpscope.internal.ffi.x86_64.Libc.EPOLLIN();
    private static final int ATTEMPTS = 5;
    private static final int MAX_OPENED_PER_ATTEMPT = 64;

    @ParameterizedTest(name = "another slot freed right after the close: {0}")
    @ValueSource(booleans = {false, true})
    void anEventForAClosedDescriptorDoesNotReachTheNewOwnerOfItsSlot(boolean anotherSlotFreedMeanwhile)
            throws Exception {
        Poller poller = Poller.shared();
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            NativeSocket bystander = open(poller); // freed right after `old`, as a Cleaner could
            NativeSocket old = open(poller);
            long oldKey = old.descriptor().pollKey();
            old.close("closed by the test", null);
            assertTrue(old.descriptor().isReleased(), "no reference held: close(2) done at once");
            if (anotherSlotFreedMeanwhile) {
                bystander.close("closed by the test", null);
            }

            List<NativeSocket> opened = new ArrayList<>();
            try {
                NativeSocket reuser = openUntilSlot(poller, (int) oldKey, opened);
                if (reuser == null) {
                    continue; // another thread registered a socket in the slot first: start over
                }
                checkStaleEventIsDropped(poller, oldKey, reuser);
                return;
            } finally {
                opened.forEach(s -> s.close("closed by the test", null));
                bystander.close("closed by the test", null);
            }
        }
        fail("in " + ATTEMPTS + " attempts, no new registration got the freed slot back");
    }

    private static void checkStaleEventIsDropped(Poller poller, long oldKey, NativeSocket reuser) {
        long newKey = reuser.descriptor().pollKey();
        assertNotEquals(oldKey, newKey, "the same slot with a new generation");
        // A fresh, unconnected socket reports EPOLLHUP once when it is registered: wait for that
        // edge to arrive through the poller, then forget it.
        Await.until("the registration's own first edge", () -> reuser.descriptor().readable.hasPendingEdge());
        reuser.descriptor().readable.clear();

        poller.dispatch(oldKey, READABLE); // the stale event
        assertFalse(reuser.descriptor().readable.hasPendingEdge(), "a stale event reached the new descriptor");

        poller.dispatch(newKey, READABLE); // its own event does
        assertTrue(reuser.descriptor().readable.hasPendingEdge(), "the descriptor's own event was dropped");
    }

    /**
     * Opens sockets until one is registered in slot {@code index}, all of them added to
     * {@code opened}; {@return that one, or null if none was within the bound}
     */
    private static NativeSocket openUntilSlot(Poller poller, int index, List<NativeSocket> opened) throws IOException {
        for (int i = 0; i < MAX_OPENED_PER_ATTEMPT; i++) {
            NativeSocket socket = open(poller);
            opened.add(socket);
            if ((int) socket.descriptor().pollKey() == index) {
                return socket;
            }
        }
        return null;
    }

    private static NativeSocket open(Poller poller) throws IOException {
        NativeSocket socket = NativeSocket.open(LinuxSyscalls.INSTANCE, poller, SocketAddresses.AF_INET);
        Registered.now(socket.descriptor()); // as a first wait would
        return socket;
    }
}
