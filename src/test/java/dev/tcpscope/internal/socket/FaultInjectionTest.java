package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.SystemCallException;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.poll.Readiness;
import dev.tcpscope.server.ListenQueue;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.DescriptorCounts;
import dev.tcpscope.testing.FaultInjectingSyscalls;
import dev.tcpscope.testing.FaultInjectingSyscalls.Call;
import dev.tcpscope.testing.FaultInjectingSyscalls.Injection;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Errnos injected into the layer's system calls take their documented path: EINTR is retried
 * (recv, send, accept4; connect waits for the handshake the kernel goes on with; close is never
 * retried), EAGAIN parks until real readiness, and the rest become typed exceptions
 * ({@link SystemCallException} naming call and errno, {@link ConnectionResetException}), after
 * which the socket or listener behaves as documented. All over real loopback sockets; the
 * injected call is usually not made at all, as with a real EINTR or EAGAIN.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FaultInjectionTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final byte[] HELLO = "hello".getBytes(StandardCharsets.US_ASCII);

    private final FaultInjectingSyscalls sys = new FaultInjectingSyscalls();

    @Test
    void eintrOnRecvIsRetried() throws Exception {
        try (Loopback.Pair pair = Loopback.Pair.open(sys)) {
            Loopback.write(pair.server(), HELLO);
            awaitUnread(pair.client(), HELLO.length); // so the retries meet data, not EAGAIN
            Injection eintr = sys.inject(Call.RECV, Errno.EINTR, 3, Loopback.fd(pair.client()));
            long before = sys.calls(Call.RECV);

            byte[] buffer = new byte[64];
            int n = pair.client().read(MemorySegment.ofArray(buffer), Loopback.deadline());

            assertEquals(HELLO.length, n);
            assertArrayEquals(HELLO, Arrays.copyOf(buffer, n));
            assertEquals(3, eintr.fired());
            assertEquals(4, sys.calls(Call.RECV) - before, "three interrupted recv, then the real one");
        }
    }

    @Test
    void eintrOnSendIsRetried() throws Exception {
        try (Loopback.Pair pair = Loopback.Pair.open(sys)) {
            Injection eintr = sys.inject(Call.SEND, Errno.EINTR, 3, Loopback.fd(pair.client()));
            long before = sys.calls(Call.SEND);

            Loopback.write(pair.client(), HELLO);

            assertEquals(3, eintr.fired());
            assertEquals(4, sys.calls(Call.SEND) - before);
            assertEquals(HELLO.length, pair.client().bytesWritten());
            pair.client().shutdownOutput();
            assertArrayEquals(HELLO, Loopback.readToEnd(pair.server()), "the peer receives the bytes once");
        }
    }

    @Test
    void eintrOnAccept4IsRetried() throws Exception {
        NativeListener listener = Loopback.listen(sys, 4);
        try (Socket peer = new Socket(Loopback.IPV4, listener.localAddress().getPort())) {
            awaitQueued(listener);
            Injection eintr = sys.inject(Call.ACCEPT4, Errno.EINTR, 3, Loopback.fd(listener));
            long before = sys.calls(Call.ACCEPT4);

            assertAcceptsAWorkingConnection(listener, peer);

            assertEquals(3, eintr.fired());
            assertEquals(4, sys.calls(Call.ACCEPT4) - before, "the connection was queued: no parking");
        } finally {
            listener.close();
        }
    }

    /**
     * connect(2) interrupted by a signal has started the handshake, which the kernel goes on
     * with: the layer must wait for it as for EINPROGRESS, not call connect again (EALREADY).
     * The injection therefore makes the real call and reports EINTR after it.
     */
    @Test
    void eintrOnConnectWaitsForTheHandshakeInsteadOfRetrying() throws Exception {
        NativeListener listener = Loopback.listen(LinuxSyscalls.INSTANCE, 4);
        try {
            Injection eintr = sys.injectAfterCall(Call.CONNECT, Errno.EINTR, 1, FaultInjectingSyscalls.ANY_FD);

            NativeSocket client = Loopback.connector(sys).connect(listener.localAddress(), Duration.ofSeconds(10), null, s -> {});
            NativeSocket accepted = listener.accept(Loopback.deadline());
            try {
                assertEquals(1, eintr.fired());
                assertEquals(1, sys.calls(Call.CONNECT), "connect is called once");
                Loopback.write(client, HELLO);
                assertArrayEquals(HELLO, Loopback.readExactly(accepted, HELLO.length));
            } finally {
                client.close("done", null);
                accepted.close("done", null);
            }
        } finally {
            listener.close();
        }
    }

    /**
     * EAGAIN means "not ready": the reader parks, even with bytes in the queue, and the next real
     * readiness edge (more data) wakes it; it then reads everything queued.
     */
    @Test
    void eagainOnRecvParksUntilRealDataArrives() throws Exception {
        try (Loopback.Pair pair = Loopback.Pair.open(sys)) {
            byte[] buffer = new byte[64];
            Forked<Integer> reader = Forked.start(Forked.Kind.VIRTUAL, "reader",
                    () -> pair.client().read(MemorySegment.ofArray(buffer), Loopback.deadline()));
            Parked.await(reader.thread()); // parked on a real EAGAIN: nothing was sent yet
            Injection eagain = sys.inject(Call.RECV, Errno.EAGAIN, 1, Loopback.fd(pair.client()));

            Loopback.write(pair.server(), "a".getBytes(StandardCharsets.US_ASCII)); // wakes it: recv says EAGAIN
            Await.until("the reader met the injected EAGAIN", () -> eagain.fired() == 1);
            Parked.await(reader.thread());
            assertEquals(1, unread(pair.client()), "parked although a byte is queued: EAGAIN was believed");

            Loopback.write(pair.server(), "b".getBytes(StandardCharsets.US_ASCII)); // a real edge
            int n = reader.await().assertReturned();
            assertEquals("ab", new String(buffer, 0, n, StandardCharsets.US_ASCII));
        }
    }

    @ParameterizedTest(name = "{0} on accept4")
    @ValueSource(strings = {"EMFILE", "ENFILE"})
    void acceptErrorIsTypedAndTheListenerStillWorks(String errnoName) throws Exception {
        int errno = errnoName.equals("EMFILE") ? Errno.EMFILE : Errno.ENFILE;
        NativeListener listener = Loopback.listen(sys, 4);
        try (Socket peer = new Socket(Loopback.IPV4, listener.localAddress().getPort())) {
            Injection injection = sys.inject(Call.ACCEPT4, errno, 1, Loopback.fd(listener));

            SystemCallException e = assertThrowsExactly(SystemCallException.class,
                    () -> listener.accept(Loopback.deadline()));
            assertEquals("accept4", e.call());
            assertEquals(errnoName, e.errnoName());
            assertEquals(errno, e.errno());
            assertTrue(e.getMessage().contains("accept4") && e.getMessage().contains(errnoName), e.getMessage());
            assertEquals(1, injection.fired());

            // The pending connection is still queued, and the listener still accepts it.
            assertAcceptsAWorkingConnection(listener, peer);
        } finally {
            listener.close();
        }
    }

    /**
     * Linux reports ECONNRESET once, and from then on recv returns 0 as if the peer had sent FIN:
     * the injection reproduces exactly that, and the socket must keep reporting the reset, never
     * -1. Writes fail without reaching send at all.
     */
    @Test
    void econnresetOnRecvIsRememberedForLaterReadsAndWrites() throws Exception {
        try (Loopback.Pair pair = Loopback.Pair.open(sys)) {
            int fd = Loopback.fd(pair.client());
            sys.inject(Call.RECV, Errno.ECONNRESET, 1, fd);
            Injection zeroAfterwards = sys.injectResult(Call.RECV, 0, 100, fd);
            MemorySegment buffer = MemorySegment.ofArray(new byte[64]);

            ConnectionResetException first = assertThrowsExactly(ConnectionResetException.class,
                    () -> pair.client().read(buffer, Loopback.deadline()));
            assertTrue(first.getMessage().contains("ECONNRESET"), first.getMessage());
            assertTrue(pair.client().wasReset());

            long sendBefore = sys.calls(Call.SEND);
            assertThrowsExactly(ConnectionResetException.class, () -> pair.client().read(buffer, Loopback.deadline()));
            assertThrowsExactly(ConnectionResetException.class, () -> pair.client().read(buffer, Loopback.deadline()));
            assertTrue(zeroAfterwards.fired() >= 2, "the later reads met Linux's 0, not the reset again");
            assertThrowsExactly(ConnectionResetException.class, () -> Loopback.write(pair.client(), HELLO));
            assertEquals(sendBefore, sys.calls(Call.SEND), "a write to a reset connection is not attempted");
        }
    }

    /** EPIPE from send, without our own shutdown, is the reset seen by the write side. */
    @Test
    void epipeOnSendIsAResetAndRemembered() throws Exception {
        try (Loopback.Pair pair = Loopback.Pair.open(sys)) {
            int fd = Loopback.fd(pair.client());
            sys.inject(Call.SEND, Errno.EPIPE, 1, fd);
            sys.injectResult(Call.RECV, 0, 100, fd); // what recv answers on a reset connection
            assertThrowsExactly(ConnectionResetException.class, () -> Loopback.write(pair.client(), HELLO));
            assertTrue(pair.client().wasReset());
            assertThrowsExactly(ConnectionResetException.class,
                    () -> pair.client().read(MemorySegment.ofArray(new byte[8]), Loopback.deadline()));
            assertThrowsExactly(ConnectionResetException.class, () -> Loopback.write(pair.client(), HELLO));
        }
    }

    /** close(2) releases the descriptor even when it reports EINTR: retrying could close a reused number. */
    @Test
    void eintrOnCloseIsNotRetried() throws Exception {
        try (Loopback.Pair pair = Loopback.Pair.open(sys)) {
            int fd = Loopback.fd(pair.client());
            String inode = OpenSockets.target(fd).orElseThrow();
            Injection eintr = sys.injectAfterCall(Call.CLOSE, Errno.EINTR, 1, fd);
            long before = sys.calls(Call.CLOSE);

            pair.client().close("closed by test", null);

            assertTrue(pair.client().descriptor().isReleased());
            assertEquals(1, eintr.fired());
            assertEquals(1, sys.calls(Call.CLOSE) - before, "close(2) is called exactly once");
            assertTrue(OpenSockets.target(fd).filter(inode::equals).isEmpty(), "the socket is gone");
            assertEquals(0, Loopback.readToEnd(pair.server()).length, "the peer sees the close");
        }
    }

    @Test
    void emfileOnSocketIsTypedAndNothingIsAdopted() {
        DescriptorCounts counts = DescriptorCounts.now();
        sys.inject(Call.SOCKET, Errno.EMFILE, 1);
        SystemCallException e = assertThrowsExactly(SystemCallException.class,
                () -> Loopback.connector(sys).connect(new InetSocketAddress(Loopback.IPV4, 9), Duration.ofSeconds(5),
                        null, s -> {}));
        assertEquals("socket", e.call());
        assertEquals("EMFILE", e.errnoName());
        assertEquals(0, counts.openedSince());
    }

    @Test
    void injectionsAreCountedPerCallAndCanBeLimitedToOneDescriptor() throws Exception {
        try (Loopback.Pair pair = Loopback.Pair.open(sys)) {
            Injection onServer = sys.inject(Call.RECV, Errno.ECONNRESET, 1, Loopback.fd(pair.server()));
            Loopback.write(pair.server(), HELLO);
            assertArrayEquals(HELLO, Loopback.readExactly(pair.client(), HELLO.length), "the client's fd is unaffected");
            assertEquals(0, onServer.fired());
            assertThrows(ConnectionResetException.class,
                    () -> pair.server().read(MemorySegment.ofArray(new byte[8]), Deadline.NONE));
            assertEquals(1, onServer.fired());
        }
    }

    /** Accepts {@code peer}'s queued connection, checks bytes go both ways on it, and closes it (also for AcceptAndConnectErrnoTest). */
    static void assertAcceptsAWorkingConnection(NativeListener listener, Socket peer) throws IOException {
        NativeSocket accepted = listener.accept(Loopback.deadline());
        try {
            peer.getOutputStream().write(HELLO);
            assertArrayEquals(HELLO, Loopback.readExactly(accepted, HELLO.length));
            Loopback.write(accepted, HELLO);
            assertArrayEquals(HELLO, peer.getInputStream().readNBytes(HELLO.length));
        } finally {
            accepted.close("done", null);
        }
    }

    /**
     * Waits until {@code listener}'s accept queue holds the one connection a test made to it, so
     * that counted accept4 calls meet it and never an EAGAIN. The peer's connect returns once its
     * side has the SYN-ACK; the listener queues the connection on the peer's ACK, which the
     * kernel may process just after (when it defers the handshake's packets), and a first real
     * accept4 that comes too soon parks and calls again (also for AcceptAndConnectErrnoTest).
     */
    static void awaitQueued(NativeListener listener) throws IOException {
        int port = listener.localAddress().getPort();
        Await.until("the peer's connection is queued on the listener", () -> ListenQueue.pending(port) == 1);
    }

    private static int unread(NativeSocket socket) {
        try {
            return socket.options().unread();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void awaitUnread(NativeSocket socket, int bytes) {
        Await.until(bytes + " bytes queued for reading", () -> unread(socket) == bytes);
    }
}
