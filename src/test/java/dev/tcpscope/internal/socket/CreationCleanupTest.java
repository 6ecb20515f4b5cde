package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.os.SocketAddresses;
import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.testing.DescriptorCounts;
import dev.tcpscope.testing.FaultInjectingSyscalls;
import dev.tcpscope.testing.FaultInjectingSyscalls.Call;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A socket being created belongs to nobody else until it is returned: whatever is thrown while it
 * is prepared — an IOException, a RuntimeException, or an Error (out of memory, a preparation's
 * own AssertionError) — closes it before the exception propagates. {@link Connector},
 * {@link NativeListener#open} and {@link NativeListener#listen} (which {@code TcpListener.bind}
 * uses) caught only {@code IOException | RuntimeException}, so an Error leaked the socket.
 *
 * <p>Checked: with the Error dropped from the catch clause of Connector, of NativeListener.open,
 * of NativeListener.listen in turn, the connection test, the opening test, and both listen tests
 * failed (the socket opened was never released).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CreationCleanupTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private final FaultInjectingSyscalls sys = new FaultInjectingSyscalls();

    @Test
    void anErrorWhilePreparingAConnectionClosesItsSocket() {
        DescriptorCounts counts = DescriptorCounts.now();
        Error injected = new OutOfMemoryError("injected into the preparation");

        Error thrown = assertThrows(OutOfMemoryError.class, () -> Loopback.connector(sys).connect(
                new InetSocketAddress(Loopback.IPV4, 9), Duration.ofSeconds(5), null, s -> {
                    throw injected;
                }));

        assertSame(injected, thrown);
        assertEquals(1, counts.openedSince());
        counts.awaitAllReleased("the connection attempt");
    }

    @Test
    void anErrorWhileOpeningAListenerClosesItsSocket() {
        DescriptorCounts counts = DescriptorCounts.now();
        Error injected = new OutOfMemoryError("injected into setsockopt(SO_REUSEADDR)");
        sys.injectThrow(Call.SETSOCKOPT, injected, 1, FaultInjectingSyscalls.ANY_FD);

        Error thrown = assertThrows(OutOfMemoryError.class,
                () -> NativeListener.open(sys, Poller.shared(), SocketAddresses.AF_INET));

        assertSame(injected, thrown);
        assertEquals(1, counts.openedSince());
        counts.awaitAllReleased("the listener");
    }

    /** The path of TcpListener.bind: open, prepare (SO_LINGER, IPV6_V6ONLY), bind, listen. */
    @Test
    void anErrorWhilePreparingAListenerClosesItsSocket() {
        DescriptorCounts counts = DescriptorCounts.now();
        Error injected = new AssertionError("injected into the preparation");

        Error thrown = assertThrows(AssertionError.class, () -> NativeListener.listen(sys, Poller.shared(),
                new InetSocketAddress(Loopback.IPV4, 0), 4, l -> {
                    throw injected;
                }));

        assertSame(injected, thrown);
        assertEquals(1, counts.openedSince());
        counts.awaitAllReleased("the listener");
    }

    @Test
    void anErrorFromListenClosesTheListenersSocket() {
        DescriptorCounts counts = DescriptorCounts.now();
        Error injected = new OutOfMemoryError("injected into listen");
        sys.injectThrow(Call.LISTEN, injected, 1, FaultInjectingSyscalls.ANY_FD);

        Error thrown = assertThrows(OutOfMemoryError.class, () -> NativeListener.listen(sys, Poller.shared(),
                new InetSocketAddress(Loopback.IPV4, 0), 4, l -> {}));

        assertSame(injected, thrown);
        counts.awaitAllReleased("the listener");
    }
}
