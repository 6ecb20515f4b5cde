package dev.tcpscope.internal.poll;

import dev.tcpscope.SystemCallException;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.SocketAddresses;
import dev.tcpscope.internal.socket.NativeSocket;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.FaultInjectingSyscalls;
import dev.tcpscope.testing.FaultInjectingSyscalls.Call;
import dev.tcpscope.testing.OpenSockets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The poller's table of registrations: slots handed out, grown, freed and reused, and events
 * routed by key. Most of it is observable only through the table, so this test reads the table's
 * size by reflection (the one thing it reads that way) to know how many registrations make it
 * grow.
 *
 * <p>Checked through PIT's mutants of {@code Poller} (issue 11), which these tests kill: with {@code grow} not copying
 * the old entries, events no longer reached the descriptors registered before the growth; with
 * {@code freeSlot} not emptying the slot, a stale event still reached the closed descriptor; with
 * the failed registration not resetting the descriptor's key, its slot was freed twice and two
 * later registrations shared it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PollerSlotsTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final int READABLE = dev.tcpscope.internal.ffi.x86_64.Libc.EPOLLIN();

    @Test
    void thereIsOneSharedPoller() {
        assertSame(Poller.shared(), Poller.shared());
    }

    @Test
    void itCountsItsWakeUps() throws Exception {
        Poller poller = Poller.shared();
        long before = poller.wakeups();
        NativeSocket socket = open(poller); // its registration reports EPOLLHUP: one wake-up at least
        try {
            Await.until("the poller woke for the registration's edge", () -> poller.wakeups() > before);
        } finally {
            socket.close("closed by test", null);
        }
    }

    /**
     * Registers one more socket than the table holds, so that it grows; every registration, before
     * and after the growth, still gets its own events and no other; keys are unique; after all are
     * closed, their stale events reach nobody, and new registrations reuse the slots under new keys.
     * Also grows the free-slot stack: more slots are freed at once than were ever free before.
     */
    @Test
    void theTableGrowsAndEveryRegistrationKeepsItsEvents() throws Exception {
        Poller poller = Poller.shared();
        int capacity = capacity(poller);
        List<NativeSocket> sockets = new ArrayList<>();
        List<NativeSocket> reopened = new ArrayList<>();
        try {
            while (capacity(poller) == capacity) {
                if (sockets.size() > 2 * capacity + 64) {
                    fail("the table did not grow after " + sockets.size() + " registrations (capacity " + capacity + ")");
                }
                sockets.add(open(poller));
            }
            int grown = capacity(poller);
            assertEquals(2 * capacity, grown, "the table doubles");

            Set<Long> keys = new HashSet<>();
            for (NativeSocket s : sockets) {
                long key = s.descriptor().pollKey();
                assertTrue(keys.add(key), "two registrations share the key " + key);
                assertTrue((int) key >= 0 && (int) key < grown, "slot index " + (int) key + " outside the table");
            }
            for (NativeSocket s : sockets) {
                consumeTheRegistrationEdge(s.descriptor());
            }
            for (NativeSocket s : sockets) {
                poller.dispatch(s.descriptor().pollKey(), READABLE);
                assertTrue(s.descriptor().readable.hasPendingEdge(), "slot " + (int) s.descriptor().pollKey()
                        + " lost its descriptor when the table grew from " + capacity);
                assertFalse(s.descriptor().writable.hasPendingEdge());
                s.descriptor().readable.clear();
            }

            // Keys that name no slot of the table are dropped, not an exception on the poller thread.
            poller.dispatch(grown, READABLE);
            poller.dispatch(Integer.MAX_VALUE, READABLE);
            poller.dispatch(-1L, READABLE);          // index -1
            poller.dispatch(Long.MIN_VALUE, READABLE); // index 0, a generation nobody has

            for (NativeSocket s : sockets) {
                s.close("closed by test", null);
            }
            for (NativeSocket s : sockets) {
                poller.dispatch(s.descriptor().pollKey(), READABLE);
                assertFalse(s.descriptor().readable.hasPendingEdge(), "a stale event reached a closed descriptor");
            }

            // As many new registrations as were freed: every one in a slot of its own, all of them
            // reused slots (the free-slot stack kept every freed slot when it grew).
            Set<Integer> slotsInUse = new HashSet<>();
            for (int i = 0; i < sockets.size(); i++) {
                NativeSocket s = open(poller);
                reopened.add(s);
                long key = s.descriptor().pollKey();
                assertFalse(keys.contains(key), "a key was handed out twice: " + key);
                assertTrue(slotsInUse.add((int) key), "two live registrations share slot " + (int) key);
            }
        } finally {
            sockets.forEach(s -> s.close("closed by test", null));
            reopened.forEach(s -> s.close("closed by test", null));
        }
    }

    /**
     * A registration that epoll refuses (here: a number that is not an open descriptor) reports
     * the call and the errno to the thread that was about to wait, leaves the descriptor to its
     * owner (closed once, by its close), and gives its slot back exactly once: the next two
     * registrations get two different slots.
     */
    @Test
    void aRefusedRegistrationClosesOnceAndFreesItsSlotOnce() throws Exception {
        FaultInjectingSyscalls sys = new FaultInjectingSyscalls();
        int notOpen = 999_999; // above this process's descriptor limit: never an open descriptor
        SocketDescriptor refused = SocketDescriptor.adopt(notOpen, sys, Poller.shared());
        var e = assertThrowsExactly(SystemCallException.class, () -> Registered.now(refused));
        assertTrue(e.getMessage().contains("epoll_ctl(EPOLL_CTL_ADD)") && e.getMessage().contains("EBADF"), e.getMessage());
        assertEquals(0, sys.calls(Call.CLOSE), "the descriptor stays its owner's to close");
        assertTrue(refused.close("closed by the test", null));
        assertEquals(1, sys.calls(Call.CLOSE), "the refused descriptor is closed, once");

        NativeSocket first = open(Poller.shared());
        NativeSocket second = open(Poller.shared());
        try {
            assertNotEquals((int) first.descriptor().pollKey(), (int) second.descriptor().pollKey(),
                    "two live registrations share a slot");
        } finally {
            first.close("closed by test", null);
            second.close("closed by test", null);
        }
    }

    /**
     * A registration that epoll_ctl refuses gives its slot back: the poller (one of the test's own,
     * so that nothing else registers meanwhile) counts no registration for it, and the next one
     * takes that slot. Checked: with the slot not freed on the refusal (a PIT mutant of
     * {@code register}), the count stayed at 1.
     */
    @Test
    void aRefusedRegistrationGivesItsSlotBack() throws Exception {
        FaultInjectingSyscalls sys = new FaultInjectingSyscalls();
        Poller poller = Poller.start(sys);
        sys.inject(Call.EPOLL_CTL, Errno.ENOMEM, 1);
        NativeSocket socket = NativeSocket.open(sys, poller, SocketAddresses.AF_INET);
        try {
            var e = assertThrowsExactly(SystemCallException.class, () -> Registered.now(socket.descriptor()));
            assertEquals("ENOMEM", e.errnoName());
            assertEquals(0, poller.registeredCount(), "the refused registration still holds its slot");

            Registered.now(socket.descriptor()); // the next wait registers it
            assertEquals(1, poller.registeredCount());
            assertEquals(0, (int) socket.descriptor().pollKey(), "the freed slot is handed out again");
        } finally {
            socket.close("closed by test", null);
        }
        assertEquals(0, poller.registeredCount());
    }

    @Test
    void aDescriptorSaysItsNumberAndWhetherItIsClosed() throws Exception {
        NativeSocket socket = open(Poller.shared());
        int fd = socket.descriptor().acquire();
        socket.descriptor().release();
        assertEquals("SocketDescriptor[fd=" + fd + "]", socket.descriptor().toString());
        socket.close("closed by test", null);
        assertEquals("SocketDescriptor[fd=" + fd + ", closed]", socket.descriptor().toString());
    }

    private static void consumeTheRegistrationEdge(SocketDescriptor d) {
        Await.until("the registration's own first edge", () -> d.readable.hasPendingEdge() && d.writable.hasPendingEdge());
        d.readable.clear();
        d.writable.clear();
    }

    private static NativeSocket open(Poller poller) throws IOException {
        NativeSocket socket = NativeSocket.open(LinuxSyscalls.INSTANCE, poller, SocketAddresses.AF_INET);
        Registered.now(socket.descriptor()); // as a first wait would
        return socket;
    }

    /** {@return the size of the poller's table of slots} (read by reflection: see the class comment) */
    private static int capacity(Poller poller) throws ReflectiveOperationException {
        var field = Poller.class.getDeclaredField("slots");
        field.setAccessible(true);
        return ((AtomicReferenceArray<?>) field.get(poller)).length();
    }
}
