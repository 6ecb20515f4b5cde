package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.SocketAddresses;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.internal.poll.Readiness;
import dev.tcpscope.testing.DescriptorCounts;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A connect to a port where nothing listens is refused with {@link ConnectException}; bad
 * arguments fail at once with an exception whose message names what was wrong, and without
 * leaving a socket open.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ArgumentsAndRefusalTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private final Syscalls sys = LinuxSyscalls.INSTANCE;
    private final Connector connector = Loopback.connector(sys);

    @Test
    void connectToAClosedPortIsRefused() throws Exception {
        try (Loopback.ClosedPort closed = new Loopback.ClosedPort()) {
            DescriptorCounts counts = DescriptorCounts.now();
            ConnectException e = assertThrowsExactly(ConnectException.class,
                    () -> connector.connect(closed.address(), Duration.ofSeconds(10), null, s -> {}));
            assertTrue(e.getMessage().contains("ECONNREFUSED"), e.getMessage());
            assertTrue(e.getMessage().contains(Integer.toString(closed.port())), "names the address: " + e.getMessage());
            assertEquals(1, counts.openedSince());
            assertEquals(1, counts.releasedSince(), "the refused socket is closed");
        }
    }

    @Test
    void connectByNameToAClosedPortIsRefused() throws Exception {
        try (Loopback.ClosedPort closed = new Loopback.ClosedPort()) {
            assertThrowsExactly(ConnectException.class,
                    () -> connector.connect("localhost", closed.port(), Duration.ofSeconds(10), null, s -> {}));
        }
    }

    @Test
    void untimedConnectOfANativeSocketToAClosedPortIsRefused() throws Exception {
        try (Loopback.ClosedPort closed = new Loopback.ClosedPort()) {
            NativeSocket socket = NativeSocket.open(sys, Poller.shared(), SocketAddresses.AF_INET);
            try {
                assertThrowsExactly(ConnectException.class, () -> socket.connect(closed.address(), Deadline.NONE));
            } finally {
                socket.close("done", null);
            }
        }
    }

    @ParameterizedTest(name = "timeout {0} ms")
    @ValueSource(longs = {0, -1, -60_000})
    void zeroOrNegativeTimeoutsAreRejected(long millis) {
        Duration timeout = Duration.ofMillis(millis);
        DescriptorCounts counts = DescriptorCounts.now();
        var e = assertThrowsExactly(IllegalArgumentException.class,
                () -> connector.connect(new InetSocketAddress(Loopback.IPV4, 9), timeout, null, s -> {}));
        assertTrue(e.getMessage().contains("timeout"), e.getMessage());
        assertThrowsExactly(IllegalArgumentException.class,
                () -> connector.connect("localhost", 9, timeout, null, s -> {}));
        assertThrowsExactly(IllegalArgumentException.class, () -> Deadline.after(timeout));
        assertEquals(0, counts.openedSince(), "rejected before any socket is opened");
    }

    @ParameterizedTest(name = "port {0}")
    @ValueSource(ints = {0, -1, 65536, Integer.MAX_VALUE, Integer.MIN_VALUE})
    void portsOutOfRangeAreRejected(int port) {
        DescriptorCounts counts = DescriptorCounts.now();
        var e = assertThrowsExactly(IllegalArgumentException.class,
                () -> connector.connect("localhost", port, Duration.ofSeconds(5), null, s -> {}));
        assertTrue(e.getMessage().contains("port") && e.getMessage().contains(Integer.toString(port)), e.getMessage());
        if (port == 0) {
            // InetSocketAddress itself accepts 0 (it rejects the others), so the layer must.
            var e2 = assertThrowsExactly(IllegalArgumentException.class,
                    () -> connector.connect(new InetSocketAddress(Loopback.IPV4, 0), Duration.ofSeconds(5), null, s -> {}));
            assertTrue(e2.getMessage().contains("port"), e2.getMessage());
        }
        assertEquals(0, counts.openedSince(), "rejected before any socket is opened");
    }

    @Test
    void emptyOrNullHostIsRejected() {
        var e = assertThrowsExactly(IllegalArgumentException.class,
                () -> connector.connect("", 80, Duration.ofSeconds(5), null, s -> {}));
        assertTrue(e.getMessage().contains("host"), e.getMessage());
        assertThrowsExactly(IllegalArgumentException.class,
                () -> connector.connect((String) null, 80, Duration.ofSeconds(5), null, s -> {}));
    }

    @Test
    void nullAddressIsRejected() {
        var e = assertThrowsExactly(NullPointerException.class,
                () -> connector.connect((InetSocketAddress) null, Duration.ofSeconds(5), null, s -> {}));
        assertTrue(String.valueOf(e.getMessage()).contains("address"), e.getMessage());
    }

    @Test
    void nullBuffersAreRejected() throws Exception {
        try (Loopback.Pair pair = Loopback.Pair.open(sys)) {
            var read = assertThrowsExactly(NullPointerException.class,
                    () -> pair.client().read(null, Loopback.deadline()));
            assertTrue(String.valueOf(read.getMessage()).contains("buffer"), read.getMessage());
            var write = assertThrowsExactly(NullPointerException.class,
                    () -> pair.client().write(null, Loopback.deadline()));
            assertTrue(String.valueOf(write.getMessage()).contains("buffer"), write.getMessage());
            // The socket is unharmed: no reference leaked, no lock left held.
            Loopback.write(pair.client(), new byte[] {1});
            assertEquals(1, Loopback.readExactly(pair.server(), 1)[0]);
            assertEquals(0, pair.client().read(MemorySegment.ofArray(new byte[0]), Loopback.deadline()),
                    "an empty buffer reads 0 at once");
        }
    }

    @Test
    void nullPreparationIsRejectedWithoutLeakingTheSocket() {
        DescriptorCounts counts = DescriptorCounts.now();
        var e = assertThrowsExactly(NullPointerException.class,
                () -> connector.connect(new InetSocketAddress(Loopback.IPV4, 9), Duration.ofSeconds(5), null, null));
        assertTrue(String.valueOf(e.getMessage()).contains("preparation"), e.getMessage());
        assertEquals(counts.openedSince(), counts.releasedSince());
    }
}
