package dev.tcpscope.internal.poll;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.socket.Connector;
import dev.tcpscope.internal.socket.NativeListener;
import dev.tcpscope.internal.socket.NativeSocket;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;
import dev.tcpscope.testing.DescriptorCounts;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When the JVM exits, a poller with no socket registered must not hold its platform thread in
 * epoll_wait: HotSpot's exit waits up to 300 ms for every thread that is in native code
 * ({@link ExitQuiescence}). What the exit sees is the thread's state: in a downcall it is
 * RUNNABLE; parked, it is WAITING. These tests run the hook's action on a poller of their own
 * (running the real hook would change the shared poller for the rest of the test JVM), and check
 * that the real hook is registered with the runtime; a child JVM that makes one connection and
 * returns from {@code main} shows the real hook at work during a real exit. The poller keeps its wake-up socket for its
 * life, so this class counts sockets itself instead of with {@link OpenSockets.Check}.
 *
 * <p>Checked by breaking the code: without the wake-up in {@code begin} the platform thread stayed
 * in epoll_wait (first test, "parks"); without the park in the polling loop, the same; without
 * the unpark in {@code register}, the reader registered during the exit was never woken (its data
 * arrived, but nothing polled); without the wake-up when the last socket is deregistered, the
 * thread stayed in epoll_wait after the sockets of the exit were closed; without the hook's
 * registration ({@code addShutdownHook}), the child printed "POLLER STILL RUNNABLE" after 20 s;
 * without marking a poller published during the exit ({@code installHookFor}'s last lines), the
 * child whose first connection is made in a shutdown hook did.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ExitQuiescenceTest {

    private static final byte[] HELLO = "hello".getBytes(StandardCharsets.US_ASCII);

    @Test
    void atExitAnIdlePollerParksInJavaServesSocketsOpenedDuringTheExitAndParksAgainWhenTheyClose()
            throws Exception {
        Poller poller = Poller.start(LinuxSyscalls.INSTANCE);
        OpenSockets.initJdkNetworking();
        int socketsBefore = OpenSockets.count();
        DescriptorCounts counts = DescriptorCounts.now();
        Thread platform = poller.thread();
        Await.until("the platform polling thread waits in epoll_wait", () -> inEpollWait(platform),
                () -> describe(platform));

        poller.exitQuiescence().begin();
        Await.until("the idle poller's platform thread parks in Java at exit", () -> parkedForExit(platform),
                () -> describe(platform));

        // Another shutdown hook may still connect: its sockets are served as before.
        NativeListener listener = NativeListener.listen(LinuxSyscalls.INSTANCE, poller,
                new InetSocketAddress(Loopback.IPV4, 0), 4, l -> {});
        NativeSocket client = null;
        NativeSocket accepted = null;
        try {
            client = new Connector(LinuxSyscalls.INSTANCE, poller)
                    .connect(listener.localAddress(), Await.TIMEOUT, null, s -> {});
            accepted = listener.accept(Loopback.deadline());
            NativeSocket reading = client;
            byte[] received = new byte[HELLO.length];
            Forked<Integer> reader = Forked.start(Forked.Kind.VIRTUAL, "reader",
                    () -> reading.read(MemorySegment.ofArray(received), Deadline.NONE));
            Parked.await(reader.thread());
            Loopback.write(accepted, HELLO);
            assertEquals(HELLO.length, reader.await().value(), "the reader parked during the exit is woken by the data");
            assertEquals("hello", new String(received, StandardCharsets.US_ASCII));

            // Leave the client alone registered, with the thread back in epoll_wait for it: then
            // the client's close is the only thing that can wake the thread (no FIN or other
            // event follows it), through the wake-up socket's re-arming.
            accepted.close("closed by the test", null);
            accepted = null;
            listener.close();
            Await.until("only the client is registered, and the thread waits in epoll_wait",
                    () -> poller.registeredCount() == 1 && inEpollWait(platform), () -> describe(platform));
            client.close("closed by the test", null);
            client = null;
        } finally {
            if (accepted != null) {
                accepted.close("closed by the test", null);
            }
            if (client != null) {
                client.close("closed by the test", null);
            }
            listener.close();
        }
        assertEquals(0, poller.registeredCount());
        Await.until("the platform thread parks again once the exit's last socket is closed",
                () -> parkedForExit(platform), () -> describe(platform));
        counts.awaitAllReleased("the exit's sockets");
        // Nothing leaked but the wake-up socket, which the poller keeps for its life.
        OpenSockets.awaitCount(socketsBefore + 1);
    }

    /**
     * Connections opened and ended by several threads at once during the exit, so that the count
     * of registered sockets keeps falling to 0 and rising again while the platform thread decides
     * whether to park: every reader must still be woken by its data, and a reader parked on a
     * socket that another thread closes by the close. A lost wake-up hangs a reader, which fails
     * the test. Random order and timing, with a printed seed.
     *
     * <p>Checked: with the unpark in {@code register} removed, readers hung ("did not end").
     */
    @Test
    void connectionsOpenedReadAndEndedConcurrentlyDuringTheExitAreAllServed() throws Exception {
        long seed = System.nanoTime();
        System.out.println("ExitQuiescenceTest concurrent seed " + Long.toHexString(seed));
        Poller poller = Poller.start(LinuxSyscalls.INSTANCE);
        Thread platform = poller.thread();
        poller.exitQuiescence().begin();
        Await.until("the idle poller's platform thread parks in Java at exit", () -> parkedForExit(platform),
                () -> describe(platform));
        try (ServerSocket peer = new ServerSocket(0, 64, Loopback.IPV4)) {
            Thread acceptor = Thread.ofPlatform().daemon().start(() -> servePeers(peer));
            InetSocketAddress address = new InetSocketAddress(Loopback.IPV4, peer.getLocalPort());
            List<Forked<Integer>> workers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                Random random = new Random(seed + w);
                workers.add(Forked.start(Forked.Kind.VIRTUAL, "worker " + w,
                        () -> openReadAndEnd(poller, address, random, 40)));
            }
            for (Forked<Integer> worker : workers) {
                assertEquals(40, worker.await().value(), "seed " + Long.toHexString(seed));
            }
            peer.close();
            acceptor.join();
        }
        assertEquals(0, poller.registeredCount());
        Await.until("the platform thread parks again once every socket of the exit is closed",
                () -> parkedForExit(platform), () -> describe(platform));
    }

    /** {@return how many of {@code rounds} connections were served}; each connect, read, end. */
    private static int openReadAndEnd(Poller poller, InetSocketAddress address, Random random, int rounds)
            throws Exception {
        for (int i = 0; i < rounds; i++) {
            NativeSocket socket = new Connector(LinuxSyscalls.INSTANCE, poller)
                    .connect(address, Await.TIMEOUT, null, s -> {});
            try {
                byte[] received = new byte[HELLO.length];
                int n = 0;
                while (n < received.length) {
                    int r = socket.read(MemorySegment.ofArray(received).asSlice(n), Loopback.deadline());
                    if (r < 0) {
                        throw new AssertionError("EOF before the peer's hello");
                    }
                    n += r;
                }
                assertEquals("hello", new String(received, StandardCharsets.US_ASCII));
                if (random.nextBoolean()) {
                    // Another thread reads on (nothing more comes) while this one ends the socket.
                    NativeSocket reading = socket;
                    Forked<Integer> reader = Forked.start(Forked.Kind.VIRTUAL, "reader",
                            () -> reading.read(MemorySegment.ofArray(new byte[8]), Deadline.NONE));
                    if (random.nextBoolean()) {
                        Parked.await(reader.thread());
                    }
                    socket.close("ended by the test", null);
                    Throwable failure = reader.await().failure();
                    if (!(failure instanceof ConnectionClosedException)) {
                        throw new AssertionError("the reader should see the close, not " + failure);
                    }
                }
            } finally {
                socket.close("ended by the test", null);
            }
        }
        return rounds;
    }

    /** The peers: each accepted socket is sent hello, then read to its end. */
    private static void servePeers(ServerSocket listener) {
        while (true) {
            Socket accepted;
            try {
                accepted = listener.accept();
            } catch (IOException closed) {
                return;
            }
            Thread.ofVirtual().start(() -> {
                try (accepted) {
                    accepted.getOutputStream().write(HELLO);
                    accepted.getInputStream().transferTo(OutputStream.nullOutputStream());
                } catch (IOException ignored) {
                    // the test's socket may reset it: nothing to check here
                }
            });
        }
    }

    @Test
    void inARealExitThePollerParksOnceTheProgramsConnectionIsClosed() throws Exception {
        try (ChildProcess child = ChildJvm.start(ExitingProgramMain.class)) {
            assertEquals("CONNECTED", child.expect("CONNECTED"), child::describe);
            assertEquals("POLLER PARKED AT EXIT", child.expect("POLLER"), child::describe);
            assertEquals(0, child.awaitExit(), child::describe);
        }
    }

    @Test
    void aPollerFirstStartedDuringTheExitParksToo() throws Exception {
        // Another shutdown hook makes the process's first connection: too late to register
        // tcpscope's hook (addShutdownHook throws), so the poller is marked as it starts.
        try (ChildProcess child = ChildJvm.start(ExitingProgramMain.class, "in-hook")) {
            assertEquals("READY", child.expect("READY"), child::describe);
            assertEquals("POLLER PARKED AT EXIT", child.expect("POLLER"), child::describe);
            assertEquals(0, child.awaitExit(), child::describe);
        }
    }

    @Test
    void theSharedPollerInstallsTheExitHook() {
        assertNotNull(Poller.shared());
        Thread hook = ExitQuiescence.hook();
        assertNotNull(hook, "the shared poller registers the exit hook when it starts");
        assertEquals("tcpscope-exit", hook.getName());
        // removeShutdownHook says whether it was registered; put back at once.
        boolean registered = Runtime.getRuntime().removeShutdownHook(hook);
        if (registered) {
            Runtime.getRuntime().addShutdownHook(hook);
        }
        assertTrue(registered, "the hook is registered with the runtime");
    }

    /** In the epoll_wait downcall: a native frame's thread is RUNNABLE, with epollWait on its stack. */
    private static boolean inEpollWait(Thread thread) {
        return thread.getState() == Thread.State.RUNNABLE
                && Arrays.stream(thread.getStackTrace()).anyMatch(f -> f.getMethodName().equals("epollWait"));
    }

    /**
     * Parked by the platform polling loop itself (not in any epoll_wait, nor waiting for a lock
     * on the way): what the exit needs.
     */
    private static boolean parkedForExit(Thread thread) {
        return ExitingProgramMain.parkedByItsLoop(thread);
    }

    private static String describe(Thread thread) {
        return thread.getState() + " " + Arrays.toString(thread.getStackTrace());
    }
}
