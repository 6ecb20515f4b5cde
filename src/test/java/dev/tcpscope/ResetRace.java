package dev.tcpscope;

import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.internal.socket.Connector;
import dev.tcpscope.internal.socket.NativeSocket;
import dev.tcpscope.internal.socket.SocketOptions;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.TransportUnderTest;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.Patterns;
import org.opentest4j.AssertionFailedError;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Repeated trials of one race: a peer (a plain JDK socket) resets a connection while two of our
 * threads use it, one of them inside a call that can consume the kernel's one report of the
 * reset (a write parked on a full send buffer). Linux tells ECONNRESET to the first call that
 * asks, on whichever thread; every other call must still learn it from the connection.
 *
 * <p>Each trial has a connection of its own ({@link #open}): the peer receives into a small
 * buffer and our side sends from a small one, so that a write of {@link #LARGE} parks after a few
 * KiB. The bytes the peer sends before resetting vary with the trial
 * ({@link #sentBeforeReset}), nothing included: the reader must get them, then the reset.
 *
 * <p>A {@link Tally} counts the outcomes of all trials and says which ones break the contract.
 */
final class ResetRace implements AutoCloseable {

    /** Trials per kind of thread: enough to see a race that hits a few times per thousand. */
    static final int TRIALS = 2_000;

    /** Far more than the peer's window and our send buffer hold: a write of it parks. */
    static final byte[] LARGE = new byte[1 << 20];

    private static final int[] SENT_BEFORE_RESET = {0, 100, 3000};

    private final JdkPeer.Server server;

    private ResetRace(JdkPeer.Server server) {
        this.server = server;
    }

    /** {@return the peers' server: its accepted sockets receive into a small buffer} */
    static ResetRace start() throws IOException {
        return new ResetRace(JdkPeer.Server.open(Loopback.SMALL_BUFFER));
    }

    /** One trial's connection and its peer; closing aborts the connection and closes the peer. */
    record Trial(TcpConnection connection, JdkPeer peer, byte[] sentBeforeReset) implements AutoCloseable {

        /** The peer sends {@link #sentBeforeReset()}, then resets (SO_LINGER {1, 0} and close). */
        void peerSendsThenResets() throws IOException {
            if (sentBeforeReset.length > 0) {
                peer.write(sentBeforeReset);
            }
            peer.reset();
        }

        @Override
        public void close() {
            try {
                connection.close();
            } finally {
                peer.close();
            }
        }
    }

    /** {@return a new connection for trial {@code trial}, with a small send buffer} */
    Trial open(int trial) throws IOException {
        TcpConnection connection = TcpConnection.connect(server.address(), Await.TIMEOUT);
        try {
            if (TransportUnderTest.portable()) {
                ((dev.tcpscope.internal.portable.PortableSocket) connection.transportSocket())
                        .setSendBufferSize(Loopback.SMALL_BUFFER);
            } else {
                SocketOptionsOf.socket(connection).options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_SNDBUF,
                        Loopback.SMALL_BUFFER);
            }
            return new Trial(connection, server.accept(), sentBeforeReset(trial));
        } catch (IOException | RuntimeException e) {
            connection.abort();
            throw e;
        }
    }

    /**
     * {@return a new connection for trial {@code trial} whose socket makes its calls through
     * {@code syscalls}}, made as {@link TcpConnection#connect} makes one (SO_LINGER {1, 0}
     * before the handshake), with a small send buffer
     */
    Trial open(int trial, Syscalls syscalls) throws IOException {
        NativeSocket socket = new Connector(syscalls, Poller.shared()).connect(server.address(), Await.TIMEOUT, null,
                s -> {
                    s.options().setLinger(SocketOptions.Linger.ABORT);
                    s.options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_SNDBUF, Loopback.SMALL_BUFFER);
                });
        TcpConnection connection = new TcpConnection(socket);
        try {
            return new Trial(connection, server.accept(), sentBeforeReset(trial));
        } catch (IOException | RuntimeException e) {
            connection.abort();
            throw e;
        }
    }

    /** {@return what the peer sends before resetting in trial {@code trial}} */
    static byte[] sentBeforeReset(int trial) {
        return Patterns.bytes(0, SENT_BEFORE_RESET[trial % SENT_BEFORE_RESET.length]);
    }

    @Override
    public void close() throws IOException {
        server.close();
    }

    /**
     * What a reader saw: the bytes and how its read loop ended, then what one more read did.
     *
     * @param bytes every byte read
     * @param end   what ended the loop, {@code null} if a read returned -1
     * @param again the read after that: "-1", "n bytes" or the exception's description
     */
    record ReaderSaw(byte[] bytes, IOException end, String again) {

        /** Reads {@code connection} until -1 or an exception, then once more. */
        static ReaderSaw readToEndAndOnceMore(TcpConnection connection) {
            ConnectionPeerEndingTest.ReadUntilEnd first = ConnectionPeerEndingTest.readUntilEnd(connection);
            String again;
            try {
                int n = connection.read(new byte[100]);
                again = n < 0 ? "-1" : n + " bytes";
            } catch (IOException e) {
                again = describe(e);
            }
            return new ReaderSaw(first.bytes(), first.failure(), again);
        }

        /** {@return whether the loop ended with -1: a clean end of stream (the peer's FIN)} */
        boolean sawEndOfStream() {
            return end == null || again.equals("-1");
        }

        /** {@return whether the loop ended with {@code type} and the read after it threw {@code type} too} */
        boolean endedTwiceWith(Class<? extends IOException> type) {
            return type.isInstance(end) && again.startsWith(type.getSimpleName() + ":");
        }

        @Override
        public String toString() {
            return bytes.length + " bytes, then " + (end == null ? "-1" : describe(end)) + ", then " + again;
        }
    }

    /** Counts how a write of {@link #LARGE} ended: it cannot complete, the peer reads nothing. */
    static void judgeWriter(Forked.Outcome<Void> written, Tally tally, int trial) {
        if (written.failure() == null) {
            tally.bad("writer returned", trial, "a write of " + LARGE.length + " bytes completed");
        } else {
            tally.good("writer threw " + written.failure().getClass().getSimpleName());
        }
    }

    /** {@return "ClassName: message" of a failure, or "returned" for none} */
    static String describe(Throwable failure) {
        return failure == null ? "returned" : failure.getClass().getSimpleName() + ": " + failure.getMessage();
    }

    /**
     * The outcomes of a series of trials, by name, and the ones that break the contract with an
     * example each: printed as one summary line, and asserted at the end, so that one run reports
     * how often each outcome happened instead of stopping at the first bad one.
     */
    static final class Tally {
        private static final int EXAMPLES = 5;

        private final String name;
        private final Map<String, Integer> counts = new TreeMap<>();
        private final Map<String, Integer> bad = new TreeMap<>();
        private final List<String> examples = new ArrayList<>();
        private int trials;

        Tally(String name) {
            this.name = name;
        }

        /** Ends a trial. */
        void trial() {
            trials++;
        }

        /** Counts an outcome the contract allows. */
        void good(String outcome) {
            counts.merge(outcome, 1, Integer::sum);
        }

        /** Counts an outcome that breaks the contract, keeping the first few details. */
        void bad(String outcome, int trial, String detail) {
            counts.merge(outcome, 1, Integer::sum);
            bad.merge(outcome, 1, Integer::sum);
            if (examples.size() < EXAMPLES) {
                examples.add("trial " + trial + ": " + outcome + ": " + detail);
            }
        }

        /** {@return one line: the trials and every outcome's count} */
        String summary() {
            return name + ": " + trials + " trials; outcomes " + counts + "; contract broken " + bad;
        }

        /** Prints the summary, then fails if any outcome broke the contract. */
        void printAndAssertNoneBad() {
            System.out.println(summary());
            if (!bad.isEmpty()) {
                throw new AssertionFailedError(summary() + "; first cases:\n  " + String.join("\n  ", examples));
            }
        }
    }
}
