package dev.tcpscope;

import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import dev.tcpscope.testing.Patterns;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Issue 10, section 1: while one thread reads and another ends the connection with
 * {@link TcpConnection#finish}, a peer's reset reaches the reader as a reset (never -1), and
 * {@code finish()} reports the bytes as not delivered, whichever of the two threads the kernel
 * told (Linux reports ECONNRESET once; the recv after it returns 0, as for a FIN).
 *
 * <p>Each trial first fills the send buffer (the peer does not read, so nothing written is
 * acknowledged), then a reader parks waiting for input, and another thread calls
 * {@code finish()}, in one of two places when the peer sends 0, 100 or 3000 bytes and resets:
 * <ul>
 *   <li>even trials, <b>flushing</b>: the output stream view holds 4,000 bytes, and finish's
 *       flush is parked on the full send buffer: its send is a call the kernel may tell;</li>
 *   <li>odd trials, <b>draining</b>: finish has sent FIN and waits for the acknowledgement,
 *       reading and discarding input meanwhile (it then reports {@link PeerEnding#RST}).</li>
 * </ul>
 * The reader must get the bytes (those that finish's drain did not read and discard), then
 * {@link ConnectionResetException}, or {@link ConnectionClosedException} once finish has aborted
 * the connection (our side ended it; the bytes not yet read are then lost with it), and the same
 * on its next read; never -1.
 * {@value ResetRace#TRIALS} trials on virtual threads and as many on platform threads.
 *
 * <p>Checked to fail against the unfixed code (finish's flush remembered the reset only after
 * its send had returned): the reader read -1 in 4 of 2,000 trials on virtual threads and 3 of
 * 2,000 on platform threads in one run (1 and 2 in another, 1 and 6 in a third), all in
 * flushing trials: a drain reads under the reader's lock, so there the reset could not be lost
 * between the two. {@link ResetToldToTheWriterTest} forces the losing order, and fails every
 * time. The class runs in about 9 to 16 s.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ResetDuringFinishTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    /** Fewer than the output stream view buffers (8 KiB): they stay buffered until finish flushes them. */
    static final int BUFFERED = 4000;

    @ParameterizedTest
    @EnumSource(Forked.Kind.class)
    void theReaderNeverReadsEndOfStreamAndFinishReportsNotDelivered(Forked.Kind kind) throws Exception {
        ResetRace.Tally tally = new ResetRace.Tally(getClass().getSimpleName() + " on " + kind + " threads");
        try (ResetRace race = ResetRace.start()) {
            for (int i = 0; i < ResetRace.TRIALS; i++) {
                boolean flushing = i % 2 == 0;
                String where = flushing ? "flushing" : "draining";
                try (ResetRace.Trial trial = race.open(i)) {
                    TcpConnection conn = trial.connection();
                    fillTheSendBuffer(conn);
                    if (flushing) {
                        conn.outputStream().write(Patterns.bytes(0, BUFFERED));
                    }
                    Forked<ResetRace.ReaderSaw> reader = Forked.start(kind, "reader",
                            () -> ResetRace.ReaderSaw.readToEndAndOnceMore(conn));
                    Parked.await(reader.thread());
                    Forked<FinishResult> finisher = Forked.start(kind, "finisher", () -> conn.finish(Await.TIMEOUT));
                    if (flushing) {
                        Parked.await(finisher.thread()); // its flush, on the full send buffer
                    } else {
                        Parked.awaitIn(finisher.thread(), "LingeringClose.run"); // FIN sent, not acknowledged
                    }

                    trial.peerSendsThenResets();

                    FinishResult result = finisher.await().assertReturned();
                    judgeReader(reader.await().assertReturned(), result, trial.sentBeforeReset(), where, tally, i);
                    judgeFinish(result, where, tally, i);
                }
                tally.trial();
            }
        }
        tally.printAndAssertNoneBad();
    }

    /**
     * Writes until the kernel takes no more (the peer does not read, so its window closes and our
     * send buffer fills), without waiting: a deadline already passed ends the write at EAGAIN.
     * Through the socket layer, where a timed-out write does not poison the connection.
     */
    static void fillTheSendBuffer(TcpConnection conn) throws IOException {
        try {
            SocketOptionsOf.socket(conn).write(MemorySegment.ofArray(ResetRace.LARGE), System.nanoTime());
            throw new AssertionError("a write of " + ResetRace.LARGE.length + " bytes fitted in the buffers");
        } catch (SocketTimeoutException full) {
            // the send buffer is full
        }
    }

    /** Counts what finish reported: not delivered; when it was draining, the peer's RST. */
    static void judgeFinish(FinishResult result, String where, ResetRace.Tally tally, int trial) {
        if (result.delivered()) {
            tally.bad("finish " + where + ": delivered", trial, result.toString());
        } else if (where.equals("draining") && result.peerEnding() != PeerEnding.RST) {
            tally.bad("finish draining: not RST", trial, result.toString());
        } else {
            tally.good("finish " + where + ": not delivered, peer " + result.peerEnding());
        }
    }

    /**
     * The reader's bytes and finish's discarded ones together are what the peer sent (a drain
     * reads between the reader's reads); all of them once the reader was told of the reset, which
     * comes after every queued byte, and a prefix of them when finish closed the connection first.
     */
    static void judgeReader(ResetRace.ReaderSaw saw, FinishResult result, byte[] sent, String where,
                                    ResetRace.Tally tally, int trial) {
        long accounted = saw.bytes().length + result.bytesDiscarded();
        boolean reset = saw.end() instanceof ConnectionResetException;
        boolean closed = saw.end() instanceof ConnectionClosedException;
        boolean againReset = saw.again().startsWith(ConnectionResetException.class.getSimpleName() + ":");
        boolean againClosed = saw.again().startsWith(ConnectionClosedException.class.getSimpleName() + ":");
        boolean prefix = result.bytesDiscarded() > 0
                || Arrays.equals(sent, 0, saw.bytes().length, saw.bytes(), 0, saw.bytes().length);
        if (saw.sawEndOfStream()) {
            tally.bad("reader read -1 (finish " + where + ")", trial, saw.toString());
        } else if (!(reset || closed) || !(againReset || againClosed) || !prefix
                || (reset ? accounted != sent.length : accounted > sent.length)) {
            tally.bad("reader saw another ending (finish " + where + ")", trial,
                    saw + " (" + sent.length + " sent, " + result.bytesDiscarded() + " discarded by finish)");
        } else if (closed) {
            tally.good("reader: closed by finish");
        } else {
            tally.good(againClosed ? "reader: bytes then reset, then closed by finish" : "reader: bytes then reset");
        }
    }
}
