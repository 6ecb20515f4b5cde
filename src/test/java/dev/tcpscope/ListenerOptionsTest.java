package dev.tcpscope;

import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.KernelSocketView;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Options of listening sockets ({@link TcpListener.Builder}, {@link TcpServer.Builder}), seen by
 * peers and by the kernel, on both transports.
 *
 * <p>Checked by breaking it on purpose: with SO_REUSEPORT never set (the builder's flag
 * ignored by NativeTransport), {@code twoListenersWithReusePortShareAPortAndBothAccept} failed
 * at the second bind (BindException: EADDRINUSE); with the listener's SO_RCVBUF not set,
 * {@code acceptedConnectionsInheritTheListenersReceiveBuffer} failed (the kernel's default).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ListenerOptionsTest {

    private static final InetSocketAddress ANY_LOOPBACK_PORT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    @Test
    void twoListenersWithReusePortShareAPortAndBothAccept() throws Exception {
        try (TcpListener first = TcpListener.builder(ANY_LOOPBACK_PORT).reusePort(true).bind();
             TcpListener second = TcpListener.builder(first.localAddress()).reusePort(true).bind()) {
            assertEquals(first.localAddress(), second.localAddress());
            AtomicInteger byFirst = new AtomicInteger();
            AtomicInteger bySecond = new AtomicInteger();
            List<Thread> acceptors = List.of(acceptor(first, "first", byFirst), acceptor(second, "second", bySecond));
            // The kernel spreads connections by a hash of their addresses: connect until both
            // listeners have accepted one (each peer reads the greeting of the one that took it).
            List<String> greetings = new ArrayList<>();
            for (int i = 0; i < 200 && (byFirst.get() == 0 || bySecond.get() == 0); i++) {
                try (JdkPeer peer = JdkPeer.connect(first.localAddress())) {
                    Seen seen = peer.readToEndAndClose();
                    assertTrue(seen.isEof(), seen::toString);
                    greetings.add(seen.text());
                }
            }
            assertTrue(byFirst.get() > 0 && bySecond.get() > 0,
                    () -> "one listener accepted nothing: " + byFirst + " and " + bySecond + ", " + greetings);
            assertTrue(greetings.contains("first") && greetings.contains("second"), greetings::toString);
            first.close();
            second.close();
            for (Thread t : acceptors) {
                t.join();
            }
        }
    }

    @Test
    void withoutReusePortTheSecondBindIsRefused() throws Exception {
        try (TcpListener first = TcpListener.builder(ANY_LOOPBACK_PORT).reusePort(true).bind()) {
            assertThrows(BindException.class, () -> TcpListener.bind(first.localAddress()));
        }
    }

    @Test
    void serversWithReusePortShareAPort() throws Exception {
        try (TcpServer first = TcpServer.builder(ANY_LOOPBACK_PORT).reusePort(true).bind();
             TcpServer second = TcpServer.builder(first.localAddress()).reusePort(true).bind()) {
            assertEquals(first.localAddress(), second.localAddress());
        }
    }

    @Test
    void acceptedConnectionsInheritTheListenersReceiveBuffer(@TempDir Path dir) throws Exception {
        KernelSocketView kernel = KernelSocketView.compile(dir);
        try (TcpListener listener = TcpListener.builder(ANY_LOOPBACK_PORT).receiveBufferSize(40_000).bind();
             JdkPeer peer = JdkPeer.connect(listener.localAddress());
             TcpConnection accepted = listener.accept(Duration.ofSeconds(10))) {
            int kernelValue = kernel.options(accepted.localAddress().getPort(), accepted.remoteAddress().getPort())
                    .get("SO_RCVBUF");
            assertEquals(80_000, kernelValue, "40,000 doubled by Linux, inherited from the listener");
            assertEquals(80_000, accepted.getOption(StandardSocketOptions.SO_RCVBUF));
        }
    }

    @Test
    void aNegativeReceiveBufferIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TcpListener.builder(ANY_LOOPBACK_PORT).receiveBufferSize(-1));
        assertTrue(e.getMessage().contains("SO_RCVBUF out of range: -1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TcpServer.builder(ANY_LOOPBACK_PORT).receiveBufferSize(-1));
    }

    /** A platform thread that accepts until {@code listener} closes, greeting each peer with {@code name}. */
    private static Thread acceptor(TcpListener listener, String name, AtomicInteger accepted) {
        return Thread.ofPlatform().name("acceptor-" + name).start(() -> {
            while (true) {
                try (TcpConnection conn = listener.accept()) {
                    accepted.incrementAndGet();
                    conn.write(name.getBytes(StandardCharsets.US_ASCII));
                    conn.finish();
                } catch (ConnectionClosedException closed) {
                    return;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }
        });
    }
}
