package dev.tcpscope.internal.socket;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Patterns;
import dev.tcpscope.testing.Sensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Close at a random moment of a running transfer: the race {@link CloseRaceTest} cannot see. There
 * a thread is parked when the close comes, and a woken waiter never passes the number to the
 * kernel again, so a layer that called close(2) at once, ignoring references, still passed. Here
 * every cycle runs {@value #VICTIMS} connections of the layer, each with a reader and a writer
 * thread moving data both ways as fast as a JDK peer (with its own reader and writer) allows, so
 * that at any moment some of these threads are between taking their reference and their next
 * recv/send (running, or preempted by the OS: 16 threads share 2 cores). At a random amount of
 * progress the test thread closes them in a random order, each followed at once by a
 * {@link Sensor}, whose JDK sockets take the lowest free descriptor numbers, i.e. the victim's
 * number as soon as the layer releases it.
 *
 * <p>What must hold, every cycle: not one byte reaches or leaves a sensor (each sensor end gets
 * exactly its partner's token); each victim reader got only its peer's bytes, in order (the
 * stream pattern); each victim peer got only the victim writer's bytes, in order; and every
 * victim thread ends with {@link ConnectionClosedException}. The moments are drawn from a seed
 * that is printed, {@code -Dtcpscope.transferRace.seed=...} replays them (the interleaving itself
 * cannot be replayed); {@code -Dtcpscope.transferRace.cycles=N} runs longer (CI: {@value
 * #CI_CYCLES} cycles, 10 to 16 s here).
 *
 * <p>Checked against the early release it exists for: with {@code SocketDescriptor.close} calling
 * close(2) at once, ignoring references (then restored), 6 of 6 runs failed, at cycles 0, 7, 4,
 * 4, 44 and 0: in five a sensor was crossed (16,077 bytes of a victim writer reached a sensor's
 * server end, or a victim reader consumed a sensor's token, so that its client end received 0 of
 * its 14 bytes), in one a victim reader's recv reached the sensor's still unconnected socket
 * (ENOTCONN). Closing all victims first and opening the sensors after made a crossing rarer (in
 * one run of 150 cycles none happened): hence one sensor right after each close.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TransferCloseRaceTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final int CI_CYCLES = 200;
    private static final int VICTIMS = 4;
    private static final int CHUNK = Patterns.PERIOD * 64; // 16,064 bytes: each chunk continues the pattern
    private static final int MAX_PROGRESS = 512 * 1024;    // the random moment: up to this many bytes moved

    private final Syscalls sys = LinuxSyscalls.INSTANCE;

    @Test
    void closeDuringATransferLetsNoByteCrossToAReusedNumber() throws Exception {
        int cycles = Integer.getInteger("tcpscope.transferRace.cycles", CI_CYCLES);
        long seed = Long.getLong("tcpscope.transferRace.seed", new Random().nextLong());
        System.out.printf("TransferCloseRaceTest: seed %d (replay: -Dtcpscope.transferRace.seed=%d), %d cycles%n",
                seed, seed, cycles);
        SplittableRandom random = new SplittableRandom(seed);
        Tally tally = new Tally();
        try (ServerSocket sensorServer = new ServerSocket(0, 64, Loopback.IPV4);
             ServerSocket victimServer = new ServerSocket(0, 64, Loopback.IPV4)) {
            sensorServer.setSoTimeout(10_000);
            victimServer.setSoTimeout(10_000);
            for (int cycle = 0; cycle < cycles; cycle++) {
                runCycle(cycle, random, sensorServer, victimServer, tally);
            }
        }
        System.out.printf("TransferCloseRaceTest: %d cycles, %d victims; %d closed numbers already reused when the"
                        + " sensors were open; %d victim threads were still running at that moment%n",
                cycles, cycles * VICTIMS, tally.reused, tally.stillRunning);
        assertTrue(tally.reused > 0, "no closed number was reused by a sensor: the test proved nothing");
    }

    private void runCycle(int cycle, SplittableRandom random, ServerSocket sensorServer, ServerSocket victimServer,
                          Tally tally) throws Exception {
        List<Victim> victims = new ArrayList<>();
        List<Sensor> sensors = List.of();
        try {
            for (int i = 0; i < VICTIMS; i++) {
                victims.add(Victim.start(sys, victimServer, "cycle " + cycle + " victim " + i, random));
            }
            long progress = 1 + random.nextInt(MAX_PROGRESS);
            Await.until("the victims moved " + progress + " bytes", () -> moved(victims) >= progress);

            List<Victim> order = new ArrayList<>(victims);
            for (int i = order.size() - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                order.set(j, order.set(i, order.get(j)));
            }
            // Each close is followed at once by a sensor, whose client socket takes the lowest free
            // number: the victim's, as soon as the layer releases it.
            sensors = new ArrayList<>();
            for (Victim v : order) {
                v.socket.close("closed by test", null);
                sensors.add(Sensor.open(sensorServer));
            }
            for (Victim v : victims) {
                if (v.numberReused()) {
                    tally.reused++;
                }
                tally.stillRunning += v.runningThreads();
            }

            // Everything that went wrong in the cycle is collected, so that a failure tells all it saw.
            List<String> problems = new ArrayList<>();
            for (Victim v : victims) {
                v.awaitLayerThreads(problems);
            }
            for (Victim v : victims) {
                v.stopPeer();
            }
            for (Sensor sensor : sensors) {
                try {
                    sensor.verifyAndClose();
                } catch (AssertionError e) {
                    problems.add("a sensor: " + e.getMessage());
                }
            }
            sensors = List.of();
            for (Victim v : victims) {
                v.checkPeerSawOnlyTheWritersBytes(problems);
            }
            if (!problems.isEmpty()) {
                fail("cycle " + cycle + " (seed above):\n  " + String.join("\n  ", problems));
            }
        } finally {
            for (Victim v : victims) {
                v.socket.close("test over", null);
                v.peer.close();
            }
            sensors.forEach(Sensor::closeQuietly);
        }
    }

    private static long moved(List<Victim> victims) {
        long n = 0;
        for (Victim v : victims) {
            n += v.socket.bytesRead() + v.socket.bytesWritten();
        }
        return n;
    }

    private static final class Tally {
        int reused;
        int stillRunning;
    }

    /**
     * One connection under test: the layer's socket with a reader and a writer thread, and its JDK
     * peer with a reader and a writer thread, each checking that it receives the other side's
     * pattern stream and nothing else.
     */
    private static final class Victim {
        final NativeSocket socket;
        final Socket peer;
        final int fd;
        final String inode;
        final Forked<Void> reader;
        final Forked<Void> writer;
        final Forked<Void> peerReader;
        final Forked<Void> peerWriter;
        final AtomicReference<String> peerSawForeignBytes = new AtomicReference<>();

        private Victim(NativeSocket socket, Socket peer, String name, SplittableRandom random) throws IOException {
            this.socket = socket;
            this.peer = peer;
            this.fd = Loopback.fd(socket);
            this.inode = OpenSockets.target(fd).orElseThrow();
            this.reader = Forked.start(kind(random), name + " reader", this::readPattern);
            this.writer = Forked.start(kind(random), name + " writer", this::writePattern);
            this.peerReader = Forked.start(Forked.Kind.PLATFORM, name + " peer reader", this::peerReadPattern);
            this.peerWriter = Forked.start(Forked.Kind.PLATFORM, name + " peer writer", this::peerWritePattern);
        }

        static Victim start(Syscalls sys, ServerSocket victimServer, String name, SplittableRandom random)
                throws IOException {
            NativeSocket socket = Loopback.connector(sys).connect(
                    new java.net.InetSocketAddress(Loopback.IPV4, victimServer.getLocalPort()), Duration.ofSeconds(10),
                    null, s -> {});
            Socket peer;
            try {
                peer = victimServer.accept();
                peer.setSoTimeout(10_000);
            } catch (IOException | RuntimeException e) {
                socket.close("accept failed", e);
                throw e;
            }
            return new Victim(socket, peer, name, random);
        }

        private static Forked.Kind kind(SplittableRandom random) {
            return random.nextBoolean() ? Forked.Kind.PLATFORM : Forked.Kind.VIRTUAL;
        }

        /** The layer's reader: reads until closed, each byte checked against the peer's pattern. */
        private Void readPattern() throws IOException {
            byte[] buffer = new byte[CHUNK];
            MemorySegment segment = MemorySegment.ofArray(buffer);
            long offset = 0;
            while (true) {
                int n = socket.read(segment, Loopback.deadline());
                if (n < 0) {
                    throw new IOException("the victim reader saw an end of stream its peer never sent");
                }
                checkPattern(buffer, n, offset, "the victim reader");
                offset += n;
            }
        }

        /** The layer's writer: writes the pattern until closed. */
        private Void writePattern() throws IOException {
            byte[] chunk = Patterns.bytes(0, CHUNK);
            MemorySegment segment = MemorySegment.ofArray(chunk);
            while (true) {
                socket.write(segment, Loopback.deadline());
            }
        }

        private Void peerReadPattern() {
            byte[] buffer = new byte[CHUNK];
            long offset = 0;
            try {
                InputStream in = peer.getInputStream();
                for (int n; (n = in.read(buffer)) >= 0; offset += n) {
                    checkPattern(buffer, n, offset, "the victim's peer");
                }
            } catch (IOException endedByTheTest) {
                // a reset from the closed victim, or the test closing the peer
            } catch (AssertionError foreign) {
                peerSawForeignBytes.set(foreign.getMessage());
            }
            return null;
        }

        private Void peerWritePattern() {
            byte[] chunk = Patterns.bytes(0, CHUNK);
            try {
                OutputStream out = peer.getOutputStream();
                while (true) {
                    out.write(chunk);
                }
            } catch (IOException endedByTheTest) {
                return null; // the victim reset, or the test closed the peer
            }
        }

        private static void checkPattern(byte[] buffer, int n, long offset, String who) {
            int expected = (int) (offset % Patterns.PERIOD);
            for (int i = 0; i < n; i++) {
                if (buffer[i] != (byte) expected) {
                    throw new AssertionError(who + " received a byte its peer did not send, at stream offset "
                            + (offset + i) + ": a stale operation on a reused descriptor number");
                }
                if (++expected == Patterns.PERIOD) {
                    expected = 0;
                }
            }
        }

        boolean numberReused() {
            return OpenSockets.target(fd).filter(t -> !t.equals(inode)).isPresent();
        }

        int runningThreads() {
            return (reader.outcomeIfDone() == null ? 1 : 0) + (writer.outcomeIfDone() == null ? 1 : 0);
        }

        /** Both layer threads end with ConnectionClosedException, never another error, never a foreign byte. */
        void awaitLayerThreads(List<String> problems) throws InterruptedException {
            for (Forked<Void> t : List.of(reader, writer)) {
                Forked.Outcome<Void> outcome = t.await();
                if (!(outcome.failure() instanceof ConnectionClosedException)) {
                    problems.add(t.thread().getName() + " ended with " + outcome.failure()
                            + " instead of ConnectionClosedException");
                }
            }
        }

        /** Closes the peer (its threads end) and waits for them. */
        void stopPeer() throws Exception {
            peer.close();
            peerReader.await().assertReturned();
            peerWriter.await().assertReturned();
        }

        void checkPeerSawOnlyTheWritersBytes(List<String> problems) {
            String foreign = peerSawForeignBytes.get();
            if (foreign != null) {
                problems.add(foreign);
            }
        }
    }
}
