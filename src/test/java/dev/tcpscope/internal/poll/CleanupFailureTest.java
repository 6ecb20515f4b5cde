package dev.tcpscope.internal.poll;

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

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cleanup paths survive a throw inside them. A descriptor's final release marks it destroyed
 * before it deregisters it: if deregistering throws, close(2) must still run (nobody else ever
 * will) and the poller slot must still be freed. A waiter whose parking throws must not stay
 * published in its {@link Readiness}: the next waiter could then neither publish itself nor park,
 * and would spin until its deadline.
 *
 * <p>The throws are injected: into epoll_ctl through a poller started with
 * {@link FaultInjectingSyscalls}, into parking through {@link Readiness.Parking}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CleanupFailureTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    /**
     * Checked: with destroyIfLast calling close(2) after deregister (no finally), close(2) was
     * never called and the socket stayed open; with deregister freeing the slot only after a
     * normal epoll_ctl, the slot count stayed at 1.
     */
    @Test
    void closeRunsAndTheSlotIsFreedWhenDeregisteringThrows() throws Exception {
        var sys = new FaultInjectingSyscalls();
        Poller poller = Poller.start(sys);
        DescriptorCounts counts = DescriptorCounts.now();
        NativeSocket socket = NativeSocket.open(sys, poller, SocketAddresses.AF_INET);
        Registered.now(socket.descriptor());
        int fd = Loopback.fd(socket);
        String inode = OpenSockets.target(fd).orElseThrow();
        assertEquals(1, poller.registeredCount());
        OutOfMemoryError injected = new OutOfMemoryError("injected into epoll_ctl(EPOLL_CTL_DEL)");
        var injection = sys.injectThrow(Call.EPOLL_CTL, injected, 1, fd);

        OutOfMemoryError thrown = assertThrows(OutOfMemoryError.class, () -> socket.close("closed by the test", null));

        assertSame(injected, thrown, "the failure is not hidden");
        assertEquals(1, injection.fired());
        assertTrue(socket.descriptor().isReleased());
        assertEquals(1, sys.calls(Call.CLOSE), "close(2) ran although deregistering threw");
        assertFalse(OpenSockets.target(fd).filter(inode::equals).isPresent(), "the socket is gone");
        assertEquals(1, counts.releasedSince());
        assertEquals(0, poller.registeredCount(), "the slot was freed");
    }

    /**
     * Checked: without the finally around parking in Readiness.await, the second waiter was never
     * seen parked (it spun, its CAS from null to itself failing against the first thread).
     */
    @Test
    void aWaiterWhoseParkingThrewIsNotLeftRegistered() throws Exception {
        NativeSocket socket = NativeSocket.open(dev.tcpscope.internal.os.LinuxSyscalls.INSTANCE, Poller.shared(),
                SocketAddresses.AF_INET);
        try {
            AtomicInteger parks = new AtomicInteger();
            Error injected = new StackOverflowError("injected into park");
            Readiness readiness = new Readiness("readable (test)", (blocker, nanos) -> {
                if (parks.incrementAndGet() == 1) {
                    throw injected;
                }
                Readiness.Parking.LOCK_SUPPORT.park(blocker, nanos);
            });

            Forked<Void> first = Forked.start(Forked.Kind.VIRTUAL, "first waiter", () -> {
                readiness.await(socket.descriptor(), Deadline.NONE, "read");
                return null;
            });
            assertSame(injected, first.await().assertThrowsExactly(StackOverflowError.class));

            // A bounded deadline, so that without the fix the spinning waiter ends by itself.
            Forked<Void> second = Forked.start(Forked.Kind.PLATFORM, "second waiter", () -> {
                readiness.await(socket.descriptor(), Deadline.after(java.time.Duration.ofSeconds(20)), "read");
                return null;
            });
            assertSame(readiness, Parked.await(second.thread()));
            readiness.signal();
            second.await().assertReturned();
            assertEquals(2, parks.get());
        } finally {
            socket.close("closed by the test", null);
        }
    }
}
