package dev.tcpscope.internal.socket;

import dev.tcpscope.SystemCallException;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.testing.DescriptorCounts;
import dev.tcpscope.testing.FaultInjectingSyscalls;
import dev.tcpscope.testing.FaultInjectingSyscalls.Call;
import dev.tcpscope.testing.FaultInjectingSyscalls.Injection;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static dev.tcpscope.internal.socket.FaultInjectionTest.assertAcceptsAWorkingConnection;
import static dev.tcpscope.internal.socket.FaultInjectionTest.awaitQueued;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * accept4 and connect errnos handled as their man pages say, injected over real loopback sockets:
 * the errors of one pending connection are retried by the listener, and connect's EAGAIN is a
 * typed failure. (Port exhaustion, connect's EADDRNOTAVAIL, is real in PortExhaustionTest.)
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AcceptAndConnectErrnoTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private final FaultInjectingSyscalls sys = new FaultInjectingSyscalls();

    /**
     * The errors accept(2) says to treat like EAGAIN ("Error handling": network errors already
     * pending on the new connection), and ECONNABORTED, belong to one dequeued connection, not to
     * the listener: accept retries at once and returns the next connection, so that no caller
     * (TcpServer) backs off or logs for them. The injection fails the call without making it, so
     * the peer's connection is still queued for the retry. Checked: with these errnos thrown as
     * before (the retry branch removed from NativeListener.accept), every case failed with
     * SystemCallException or NoRouteToHostException.
     */
    @ParameterizedTest(name = "{0} on accept4 is retried")
    @ValueSource(strings = {"ECONNABORTED", "ENETDOWN", "EPROTO", "ENOPROTOOPT", "EHOSTDOWN", "ENONET",
            "EHOSTUNREACH", "EOPNOTSUPP", "ENETUNREACH"})
    void acceptErrorsOfOnePendingConnectionAreRetried(String errnoName) throws Exception {
        int errno = errnoNamed(errnoName);
        assertTrue(Errno.isAcceptRetryable(errno));
        NativeListener listener = Loopback.listen(sys, 4);
        try (Socket peer = new Socket(Loopback.IPV4, listener.localAddress().getPort())) {
            awaitQueued(listener); // else the real accept4 may meet EAGAIN, park and count one call more
            Injection injection = sys.inject(Call.ACCEPT4, errno, 2, Loopback.fd(listener));
            long before = sys.calls(Call.ACCEPT4);

            assertAcceptsAWorkingConnection(listener, peer);

            assertEquals(2, injection.fired());
            assertEquals(3, sys.calls(Call.ACCEPT4) - before, "two failed calls retried at once, then the real one");
            assertEquals(2, listener.retriedErrors());
        } finally {
            listener.close();
        }
    }

    private static int errnoNamed(String name) {
        for (int errno = 1; errno < 200; errno++) {
            if (Errno.name(errno).equals(name)) {
                return errno;
            }
        }
        throw new IllegalArgumentException("Errno does not name " + name);
    }

    /**
     * connect(2) failing with EAGAIN is not "would block" (that is EINPROGRESS): for TCP it means
     * no routing cache entry (or, on old kernels, no free port). It is a typed failure naming
     * the errno, never the IllegalStateException that says a caller mishandled EAGAIN, and the
     * attempt's socket is closed. Checked: before the fix, IllegalStateException.
     */
    @Test
    void eagainOnConnectIsATypedFailure() throws Exception {
        DescriptorCounts counts = DescriptorCounts.now();
        sys.inject(Call.CONNECT, Errno.EAGAIN, 1);
        SystemCallException e = assertThrowsExactly(SystemCallException.class,
                () -> Loopback.connector(sys).connect(new InetSocketAddress(Loopback.IPV4, 9), Duration.ofSeconds(5),
                        null, s -> {}));
        assertEquals("connect", e.call());
        assertEquals("EAGAIN", e.errnoName());
        assertEquals(1, counts.openedSince());
        counts.awaitAllReleased("the attempt's socket");
    }
}
