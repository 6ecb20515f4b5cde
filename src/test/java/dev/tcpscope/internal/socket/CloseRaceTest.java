package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.internal.poll.Readiness;
import dev.tcpscope.testing.DescriptorCounts;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import dev.tcpscope.testing.Sensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Close racing blocked reads and writes, many times over, in the manner of the JDK's
 * AsyncCloseChannel test: a thread is parked in read (or in write, facing a peer that does not
 * read) when another thread closes the socket; right after the close, new "sensor" connections
 * are opened so that the descriptor number, once released, is reused at once.
 *
 * <p>Each cycle checks that the parked thread is woken with ConnectionClosedException (nothing
 * hangs), that the victim's peer receives exactly the bytes the layer reports as written and then
 * a clean end, and that each sensor end receives exactly the token its peer sent: not one byte
 * from the victim's stale operation arrives at a sensor, and none of a sensor's bytes is consumed
 * by it. Sensors are JDK sockets, observers independent of the layer under test.
 *
 * <p>What this cannot see: a descriptor released too early. The victim is parked when the close
 * comes, and a woken waiter never passes the number to the kernel again, so a layer whose close
 * called close(2) at once, ignoring references, passed here. {@link TransferCloseRaceTest}
 * closes while reads and writes are in flight, and fails on that change.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CloseRaceTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final int CYCLES = 1_000;
    private static final int MULTI_WAITER_CYCLES = 200;
    private static final int SENSORS_PER_CYCLE = 2;
    private static final MemorySegment BIG = MemorySegment.ofArray(new byte[1 << 20]);

    private final Syscalls sys = LinuxSyscalls.INSTANCE;
    private ServerSocket sensorServer;
    private NativeListener victims;

    @BeforeEach
    void openServers() throws IOException {
        sensorServer = new ServerSocket(0, 64, Loopback.IPV4);
        sensorServer.setSoTimeout(10_000);
        // Accepted victims inherit the small receive buffer: a writer facing them blocks soon.
        victims = Loopback.listen(sys, 16,
                l -> l.options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_RCVBUF, Loopback.SMALL_BUFFER));
    }

    @AfterEach
    void closeServers() throws IOException {
        victims.close();
        sensorServer.close();
    }

    @Test
    void closeWakesAParkedReaderAndNoByteCrossesToAReusedDescriptor() throws Exception {
        DescriptorCounts counts = DescriptorCounts.now();
        Set<Integer> victimFds = new HashSet<>();
        int reusedAtOnce = 0;
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            Loopback.Pair victim = victimPair(false);
            int fd = Loopback.fd(victim.client());
            String inode = OpenSockets.target(fd).orElseThrow();
            victimFds.add(fd);
            Forked<Integer> reader = Forked.start(kind(cycle), "reader " + cycle,
                    () -> victim.client().read(MemorySegment.ofArray(new byte[64]), Deadline.NONE));
            Parked.await(reader.thread());

            victim.client().close("closed by test", null);
            List<Sensor> sensors = openSensors();
            reusedAtOnce += OpenSockets.target(fd).filter(t -> !t.equals(inode)).isPresent() ? 1 : 0;

            reader.await().assertThrowsExactly(ConnectionClosedException.class);
            assertEquals(0, Loopback.readToEnd(victim.server()).length, "the victim's peer sees a clean end");
            victim.server().close("done", null);
            for (Sensor sensor : sensors) {
                sensor.verifyAndClose();
            }
        }
        report("read", victimFds, reusedAtOnce);
        counts.awaitAllReleased("read race");
        assertEquals(2L * CYCLES, counts.openedSince());
    }

    @Test
    void closeWakesAParkedWriterAndNoByteCrossesToAReusedDescriptor() throws Exception {
        Set<Integer> victimFds = new HashSet<>();
        int reusedAtOnce = 0;
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            Loopback.Pair victim = victimPair(true);
            int fd = Loopback.fd(victim.client());
            String inode = OpenSockets.target(fd).orElseThrow();
            victimFds.add(fd);
            Forked<Void> writer = Forked.start(kind(cycle), "writer " + cycle, () -> {
                victim.client().write(BIG, Deadline.NONE);
                return null;
            });
            Parked.await(writer.thread());

            victim.client().close("closed by test", null);
            List<Sensor> sensors = openSensors();
            reusedAtOnce += OpenSockets.target(fd).filter(t -> !t.equals(inode)).isPresent() ? 1 : 0;

            writer.await().assertThrowsExactly(ConnectionClosedException.class);
            long written = victim.client().bytesWritten();
            assertTrue(written > 0 && written < BIG.byteSize(), "the write was parked midway: " + written);
            assertEquals(written, Loopback.readToEnd(victim.server()).length,
                    "the victim's peer receives exactly what the layer wrote, then a clean end");
            victim.server().close("done", null);
            for (Sensor sensor : sensors) {
                sensor.verifyAndClose();
            }
        }
        report("write", victimFds, reusedAtOnce);
    }

    /**
     * Every waiter is woken: two readers and two writers on one socket, one of each parked in
     * the poller and one queued on the direction's lock, all end with ConnectionClosedException.
     */
    @Test
    void closeWakesEveryWaiterOfASocket() throws Exception {
        for (int cycle = 0; cycle < MULTI_WAITER_CYCLES; cycle++) {
            Loopback.Pair victim = victimPair(true);
            Forked.Kind kind = kind(cycle);
            List<Forked<?>> waiters = new ArrayList<>();
            Forked<Integer> reader = Forked.start(kind, "reader",
                    () -> victim.client().read(MemorySegment.ofArray(new byte[64]), Deadline.NONE));
            Parked.await(reader.thread());
            Forked<Integer> queuedReader = Forked.start(kind, "queued reader",
                    () -> victim.client().read(MemorySegment.ofArray(new byte[64]), Deadline.NONE));
            Parked.awaitOnLock(queuedReader.thread());
            Forked<Void> writer = Forked.start(kind, "writer", () -> {
                victim.client().write(BIG, Deadline.NONE);
                return null;
            });
            Parked.await(writer.thread());
            Forked<Void> queuedWriter = Forked.start(kind, "queued writer", () -> {
                victim.client().write(BIG, Deadline.NONE);
                return null;
            });
            Parked.awaitOnLock(queuedWriter.thread());
            waiters.addAll(List.of(reader, queuedReader, writer, queuedWriter));

            victim.client().close("closed by test", null);
            List<Sensor> sensors = openSensors();

            for (Forked<?> waiter : waiters) {
                waiter.await().assertThrowsExactly(ConnectionClosedException.class);
            }
            assertEquals(victim.client().bytesWritten(), Loopback.readToEnd(victim.server()).length);
            victim.server().close("done", null);
            for (Sensor sensor : sensors) {
                sensor.verifyAndClose();
            }
        }
    }

    /** Mostly virtual threads, every fourth cycle a platform thread. */
    private static Forked.Kind kind(int cycle) {
        return cycle % 4 == 3 ? Forked.Kind.PLATFORM : Forked.Kind.VIRTUAL;
    }

    private Loopback.Pair victimPair(boolean smallSendBuffer) throws IOException {
        NativeSocket client = Loopback.connector(sys).connect(victims.localAddress(), Duration.ofSeconds(10), null,
                s -> {
                    if (smallSendBuffer) {
                        s.options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_SNDBUF, Loopback.SMALL_BUFFER);
                    }
                });
        try {
            return new Loopback.Pair(client, victims.accept(Loopback.deadline()));
        } catch (IOException | RuntimeException e) {
            client.close("accept failed", e);
            throw e;
        }
    }

    private List<Sensor> openSensors() throws IOException {
        return Sensor.open(sensorServer, SENSORS_PER_CYCLE);
    }

    private static void report(String what, Set<Integer> victimFds, int reusedAtOnce) {
        // Descriptor numbers must really be reused, or the test proves nothing: Linux hands out
        // the lowest free number, so a few numbers serve all cycles.
        assertTrue(victimFds.size() < CYCLES / 10, "victim descriptor numbers were not reused: " + victimFds.size());
        System.out.printf("%s race: %d cycles over %d descriptor numbers; in %d cycles the closed number was"
                + " already reused when the sensors had been opened%n", what, CYCLES, victimFds.size(), reusedAtOnce);
    }
}
