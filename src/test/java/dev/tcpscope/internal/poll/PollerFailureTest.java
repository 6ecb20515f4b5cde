package dev.tcpscope.internal.poll;

import dev.tcpscope.SystemCallException;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.SocketAddresses;
import dev.tcpscope.internal.socket.Connector;
import dev.tcpscope.internal.socket.NativeListener;
import dev.tcpscope.internal.socket.NativeSocket;
import dev.tcpscope.testing.DescriptorCounts;
import dev.tcpscope.testing.FaultInjectingSyscalls;
import dev.tcpscope.testing.FaultInjectingSyscalls.Call;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import dev.tcpscope.testing.SteppedEpollWait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The poller thread never dies silently (see {@link Poller}, "fail-stop"): when its loop fails,
 * every operation parked on one of its descriptors wakes with a {@link PollerFailedException}
 * naming the cause, every later wait and every registration fails the same way at once, the
 * thread ends instead of retrying an error that cannot heal, and the connections can still be
 * ended (close(2) needs no poller). The failure is injected through a poller started with
 * {@link FaultInjectingSyscalls}: the epoll_wait after one real event throws an Error, or fails
 * with EBADF.
 *
 * <p>Checked: with the loop as it was (an Error ended the thread with nobody told; a non-EINTR
 * errno was logged and retried every 100 ms), both cases failed: the parked reader and acceptor
 * were still parked after 10 s.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PollerFailureTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final byte[] HELLO = "hello".getBytes(StandardCharsets.US_ASCII);

    /** How epoll_wait fails. */
    enum Fault {
        ERROR_THROWN {
            @Override
            void inject(FaultInjectingSyscalls sys) {
                sys.injectThrow(Call.EPOLL_WAIT, new OutOfMemoryError("injected into epoll_wait"), 1,
                        FaultInjectingSyscalls.ANY_FD);
            }

            @Override
            void assertCause(Throwable cause) {
                assertInstanceOf(OutOfMemoryError.class, cause);
                assertEquals("injected into epoll_wait", cause.getMessage());
            }
        },
        EBADF_RETURNED {
            @Override
            void inject(FaultInjectingSyscalls sys) {
                sys.inject(Call.EPOLL_WAIT, Errno.EBADF, 1000, FaultInjectingSyscalls.ANY_FD);
            }

            @Override
            void assertCause(Throwable cause) {
                SystemCallException e = assertInstanceOf(SystemCallException.class, cause);
                assertEquals("epoll_wait", e.call());
                assertEquals("EBADF", e.errnoName());
            }
        };

        abstract void inject(FaultInjectingSyscalls sys);

        abstract void assertCause(Throwable cause);
    }

    @ParameterizedTest
    @EnumSource(Fault.class)
    void everyParkedOperationWakesWithTheFailureAndLaterOnesFailAtOnce(Fault fault) throws Exception {
        var sys = new FaultInjectingSyscalls();
        Poller poller = Poller.start(sys);
        DescriptorCounts counts = DescriptorCounts.now();
        NativeListener listener = NativeListener.listen(sys, poller, new InetSocketAddress(Loopback.IPV4, 0), 4, l -> {});
        NativeSocket client = null;
        NativeSocket accepted = null;
        try {
            client = new Connector(sys, poller).connect(listener.localAddress(), Duration.ofSeconds(10), null, s -> {});
            accepted = listener.accept(Loopback.deadline());
            Registered.now(accepted.descriptor()); // so that data for it ends an epoll_wait (below)
            NativeSocket reading = client;
            Forked<Integer> reader = Forked.start(Forked.Kind.VIRTUAL, "reader",
                    () -> reading.read(MemorySegment.ofArray(new byte[8]), Deadline.NONE));
            Forked<NativeSocket> acceptor = Forked.start(Forked.Kind.PLATFORM, "acceptor",
                    () -> listener.accept(Deadline.NONE));
            Parked.await(reader.thread());
            Parked.await(acceptor.thread());

            fault.inject(sys);
            // An edge nobody waits for (data for the accepted socket) ends the epoll_wait in
            // progress; the next one meets the fault.
            Loopback.write(client, HELLO);

            PollerFailedException read = reader.await().assertThrowsExactly(PollerFailedException.class);
            PollerFailedException accept = acceptor.await().assertThrowsExactly(PollerFailedException.class);
            assertTrue(read.getMessage().startsWith("read: the tcpscope poller failed"), read.getMessage());
            assertTrue(accept.getMessage().startsWith("accept: the tcpscope poller failed"), accept.getMessage());
            fault.assertCause(poller.failure());
            assertSame(poller.failure(), read.getCause());
            assertSame(poller.failure(), accept.getCause());
            assertTrue(poller.thread().join(Duration.ofSeconds(10)), "the poller's thread ends");
            // Checked: without runPlatform's unpark of the virtual polling thread, it stayed parked.
            assertTrue(poller.virtualThread().join(Duration.ofSeconds(10)), "the virtual polling thread ends too");
            long epollWaits = sys.calls(Call.EPOLL_WAIT);

            // Later operations that would wait fail at once, timed or not; registrations too.
            NativeSocket again = client;
            assertSame(poller.failure(), assertThrowsExactly(PollerFailedException.class,
                    () -> again.read(MemorySegment.ofArray(new byte[8]), Deadline.NONE)).getCause());
            assertThrowsExactly(PollerFailedException.class, () -> listener.accept(Loopback.deadline()));
            NativeSocket late = NativeSocket.open(sys, poller, SocketAddresses.AF_INET);
            try {
                assertThrowsExactly(PollerFailedException.class, () -> Registered.now(late.descriptor()));
            } finally {
                late.close("closed by the test", null);
            }
            // What needs no waiting still works: the data that arrived, and the endings.
            assertEquals("hello", new String(Loopback.readExactly(accepted, HELLO.length), StandardCharsets.US_ASCII));
            assertEquals(epollWaits, sys.calls(Call.EPOLL_WAIT), "no epoll_wait after the failure");
            assertNotSame(poller, Poller.shared(), "new sockets use another poller");
            assertFalse(Poller.shared().hasFailed());
        } finally {
            if (client != null) {
                client.close("closed by the test", null);
            }
            if (accepted != null) {
                accepted.close("closed by the test", null);
            }
            listener.close();
        }
        counts.awaitAllReleased("the sockets of the failed poller");
    }

    /**
     * A registration refused because the poller failed leaves the poller's table unlocked: the
     * refusal is thrown while the table's lock is held, and another thread must still be able to
     * take it (to count registrations, or to free a slot when a socket closes). Checked: with the
     * unlock of that path removed (a PIT mutant of {@code register}), the other thread hung.
     */
    @Test
    void aRegistrationRefusedByAFailedPollerLeavesItsTableUnlocked() throws Exception {
        var stepped = new SteppedEpollWait();
        Poller poller = Poller.start(stepped);
        stepped.stop();
        assertTrue(poller.thread().join(Duration.ofSeconds(10)), "the poller's thread ends");
        NativeSocket late = NativeSocket.open(stepped, poller, SocketAddresses.AF_INET);
        try {
            assertThrowsExactly(PollerFailedException.class, () -> Registered.now(late.descriptor()));
        } finally {
            late.close("closed by the test", null);
        }
        int count = Forked.start(Forked.Kind.PLATFORM, "counter", poller::registeredCount).await().assertReturned();
        assertEquals(0, count);
    }
}
