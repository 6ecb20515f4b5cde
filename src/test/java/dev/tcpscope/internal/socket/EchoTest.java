package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.ConnectionClosedException;
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

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Echo through the layer over real loopback connections: 1,000 at once on virtual threads while
 * the JVM has exactly 2 carrier threads, so a carrier held in a native call would stall
 * everything; plus IPv6 and dual-stack variants.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EchoTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final int CONNECTIONS = 1_000;
    private static final int MESSAGES = 4;
    private static final int MAX_MESSAGE = 4096;

    private final Syscalls sys = LinuxSyscalls.INSTANCE;

    @Test
    void theJvmRunsWithExactlyTwoCarriers() {
        // The echo test proves nothing about pinning if the scheduler may add carriers.
        assertEquals("2", System.getProperty("jdk.virtualThreadScheduler.parallelism"),
                "surefire must run tests with -Djdk.virtualThreadScheduler.parallelism=2");
        assertEquals("2", System.getProperty("jdk.virtualThreadScheduler.maxPoolSize"),
                "surefire must run tests with -Djdk.virtualThreadScheduler.maxPoolSize=2");
    }

    @Test
    void echoesOverAThousandConcurrentConnectionsOnVirtualThreads() throws Exception {
        DescriptorCounts counts = DescriptorCounts.now();
        NativeListener listener = Loopback.listen(sys, CONNECTIONS);
        InetSocketAddress address = listener.localAddress();
        Queue<NativeSocket> accepted = new ConcurrentLinkedQueue<>();
        Queue<Thread> servers = new ConcurrentLinkedQueue<>();
        Queue<Throwable> serverFailures = new ConcurrentLinkedQueue<>();
        Thread acceptor = Thread.ofVirtual().name("acceptor").start(() -> {
            try {
                while (true) {
                    NativeSocket socket = listener.accept(Deadline.NONE);
                    accepted.add(socket);
                    servers.add(Thread.ofVirtual().start(() -> echo(socket, accepted.size() % 2 == 0, serverFailures)));
                }
            } catch (ConnectionClosedException expected) {
                // the listener was closed: done
            } catch (Throwable t) {
                serverFailures.add(t);
            }
        });

        CountDownLatch allConnected = new CountDownLatch(CONNECTIONS);
        ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
        List<Future<?>> results = new ArrayList<>();
        try {
            for (int i = 0; i < CONNECTIONS; i++) {
                int id = i;
                results.add(clients.submit(() -> {
                    client(id, address, allConnected);
                    return null;
                }));
            }
            for (Future<?> result : results) {
                result.get(45, TimeUnit.SECONDS); // a client's failure fails the test here
            }
        } finally {
            clients.shutdownNow(); // interrupts stragglers after a failure; parked calls wake
            listener.close();
            accepted.forEach(s -> s.close("test over", null));
            assertTrue(clients.awaitTermination(10, TimeUnit.SECONDS), "client threads did not end");
        }
        assertTrue(acceptor.join(Duration.ofSeconds(10)), "acceptor did not end after listener close");
        for (Thread server : servers) {
            assertTrue(server.join(Duration.ofSeconds(10)), "server thread did not end: " + server);
        }
        if (!serverFailures.isEmpty()) {
            AssertionError e = new AssertionError(serverFailures.size() + " server threads failed");
            serverFailures.forEach(e::addSuppressed);
            throw e;
        }
        assertEquals(CONNECTIONS, accepted.size());
        counts.awaitAllReleased("echo");
        assertEquals(2L * CONNECTIONS + 1, counts.openedSince(), "listener + both ends of every connection");
        assertEquals(counts.openedSince(), counts.releasedSince());
    }

    /** Echoes until the client's FIN, then closes; alternates heap and native buffers. */
    private static void echo(NativeSocket socket, boolean heap, Queue<Throwable> failures) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = heap ? MemorySegment.ofArray(new byte[8192]) : arena.allocate(8192);
            for (int n; (n = socket.read(buffer, Deadline.NONE)) >= 0; ) {
                socket.write(buffer.asSlice(0, n), Deadline.NONE);
            }
        } catch (Throwable t) {
            failures.add(t);
        } finally {
            socket.close("echo done", null);
        }
    }

    /** Connects, waits until every client is connected, sends messages, checks their echo. */
    private void client(int id, InetSocketAddress address, CountDownLatch allConnected) throws Exception {
        NativeSocket socket = Loopback.connector(sys).connect(address, Duration.ofSeconds(30), null,
                s -> s.options().setInt(SocketOptions.IPPROTO_TCP, SocketOptions.TCP_NODELAY, 1));
        try (Arena arena = Arena.ofConfined()) {
            allConnected.countDown();
            allConnected.await(); // all 1,000 connections are open at this point
            boolean heap = id % 2 == 0;
            for (int m = 0; m < MESSAGES; m++) {
                int length = 1 + (id * 131 + m * 977) % MAX_MESSAGE;
                MemorySegment message = heap ? MemorySegment.ofArray(new byte[length]) : arena.allocate(length);
                for (int k = 0; k < length; k++) {
                    message.set(ValueLayout.JAVA_BYTE, k, (byte) (id * 31 + m * 7 + k));
                }
                socket.write(message, Loopback.deadline());
                MemorySegment echo = heap ? MemorySegment.ofArray(new byte[length]) : arena.allocate(length);
                long deadline = Loopback.deadline();
                for (long done = 0; done < length; ) {
                    int n = socket.read(echo.asSlice(done), deadline);
                    if (n < 0) {
                        fail("connection " + id + ": end of stream after " + done + " of " + length + " bytes");
                    }
                    done += n;
                }
                assertEquals(-1, message.mismatch(echo), "connection " + id + ", message " + m);
            }
            socket.shutdownOutput();
            assertEquals(-1, socket.read(MemorySegment.ofArray(new byte[16]), Loopback.deadline()),
                    "connection " + id + ": the server closes after our FIN");
        } finally {
            socket.close("client done", null);
        }
    }

    @Test
    void connectsByHostName() throws Exception {
        try (NativeListenerResource server = new NativeListenerResource(Loopback.listen(sys, 4))) {
            int port = server.listener.localAddress().getPort();
            NativeSocket client = Loopback.connector(sys).connect("localhost", port, Duration.ofSeconds(10), null, s -> {});
            NativeSocket accepted = server.listener.accept(Loopback.deadline());
            try {
                exchange(client, accepted);
                assertEquals(port, client.remoteAddress().getPort());
                assertTrue(client.remoteAddress().getAddress().isLoopbackAddress());
            } finally {
                client.close("done", null);
                accepted.close("done", null);
            }
        }
    }

    @Test
    void echoesOverIpv6Loopback() throws Exception {
        NativeListener listener = NativeListener.open(sys, Poller.shared(), SocketAddresses.AF_INET6);
        try (NativeListenerResource server = new NativeListenerResource(listener)) {
            listener.bind(new InetSocketAddress(Loopback.IPV6, 0));
            listener.listen(4);
            InetSocketAddress address = listener.localAddress();
            assertEquals(Loopback.IPV6, address.getAddress());
            NativeSocket client = Loopback.connector(sys).connect(address, Duration.ofSeconds(10), null, s -> {});
            NativeSocket accepted = listener.accept(Loopback.deadline());
            try {
                assertEquals(SocketAddresses.AF_INET6, client.family());
                assertEquals(Loopback.IPV6, accepted.remoteAddress().getAddress());
                assertEquals(client.localAddress(), accepted.remoteAddress());
                exchange(client, accepted);
            } finally {
                client.close("done", null);
                accepted.close("done", null);
            }
        }
    }

    @Test
    void dualStackListenerAcceptsIpv4() throws Exception {
        NativeListener listener = NativeListener.open(sys, Poller.shared(), SocketAddresses.AF_INET6);
        try (NativeListenerResource server = new NativeListenerResource(listener)) {
            listener.options().setInt(SocketOptions.IPPROTO_IPV6, SocketOptions.IPV6_V6ONLY, 0);
            listener.bind(new InetSocketAddress(InetAddress.getByName("::"), 0));
            listener.listen(4);
            int port = listener.localAddress().getPort();
            NativeSocket client = Loopback.connector(sys).connect(new InetSocketAddress(Loopback.IPV4, port),
                    Duration.ofSeconds(10), null, s -> {});
            NativeSocket accepted = listener.accept(Loopback.deadline());
            try {
                // The kernel reports ::ffff:127.0.0.1; the layer decodes it as the IPv4 address it is.
                assertInstanceOf(Inet4Address.class, accepted.remoteAddress().getAddress());
                assertEquals(client.localAddress(), accepted.remoteAddress());
                exchange(client, accepted);
            } finally {
                client.close("done", null);
                accepted.close("done", null);
            }
        }
    }

    private static void exchange(NativeSocket a, NativeSocket b) throws IOException {
        byte[] ping = "ping".getBytes(StandardCharsets.US_ASCII);
        byte[] pong = "pong!".getBytes(StandardCharsets.US_ASCII);
        Loopback.write(a, ping);
        assertArrayEquals(ping, Loopback.readExactly(b, ping.length));
        Loopback.write(b, pong);
        assertArrayEquals(pong, Loopback.readExactly(a, pong.length));
    }

    /** Closes a listener at the end of a try block. */
    private record NativeListenerResource(NativeListener listener) implements AutoCloseable {
        @Override
        public void close() {
            listener.close();
        }
    }
}
