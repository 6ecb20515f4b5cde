package dev.tcpscope.faults;

import dev.tcpscope.FinishResult;
import dev.tcpscope.SocketOptionsOf;
import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;
import dev.tcpscope.internal.socket.SocketOptions;
import dev.tcpscope.peers.PythonPeer;
import dev.tcpscope.peers.Received;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fault row "frozen peer": a Python peer (receive buffer 4,096 bytes requested, which Linux
 * doubles) is SIGSTOPped with our bytes unread; a writer thread writes {@value #TOTAL} bytes, more
 * than its receive buffer plus our send buffer (SO_SNDBUF 64 KiB requested, the effective size is
 * read back and reported), so it stays parked mid-write; another thread calls
 * {@code finish(2 s)}, which waits for the write in progress only until its deadline, then aborts.
 * Pass: {@code delivered() == false}, the writer woke with an exception, and after SIGCONT the
 * peer's next read sees RST (after a prefix of the pattern). Once with a virtual writer, once
 * with a platform one.
 *
 * <p>Checked to fail with {@code -Dfaults.break=true}, which resumes the peer before the finish:
 * everything is then delivered, the peer reads EOF, and the row fails.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FrozenPeerFaultRow {

    private static final int TOTAL = 4 << 20;
    private static final Duration DEADLINE = Duration.ofSeconds(2);

    @Test
    void finishTowardsAFrozenPeerAbortsByItsDeadline() throws Exception {
        List<String> figures = new ArrayList<>();
        boolean pass = true;
        int sendBuffer = 0;
        for (Forked.Kind kind : List.of(Forked.Kind.VIRTUAL, Forked.Kind.PLATFORM)) {
            try (TcpListener listener = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                 PythonPeer python = PythonPeer.start(listener.localAddress().getPort(), "--rcvbuf", "4096", "--wait");
                 TcpConnection conn = listener.accept(Duration.ofSeconds(30))) {
                python.awaitReady();
                SocketOptions options = SocketOptionsOf.connection(conn);
                options.setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_SNDBUF, 64 * 1024);
                sendBuffer = options.getInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_SNDBUF);
                python.stop();
                Forked<Void> writer = Forked.start(kind, "writer", () -> {
                    conn.write(dev.tcpscope.testing.Patterns.bytes(0, TOTAL));
                    return null;
                });
                // Parked mid-write: the peer's window and our send buffer are full.
                dev.tcpscope.testing.Await.until("the writer is parked with our send buffer full",
                        () -> unacknowledged(options) > 0 && writer.outcomeIfDone() == null
                                && writer.thread().getState() != Thread.State.RUNNABLE);
                if (Boolean.getBoolean("faults.break")) {
                    python.resume();
                    python.sendLine("read now");
                }
                long start = System.nanoTime();
                FinishResult result = conn.finish(DEADLINE);
                double took = (System.nanoTime() - start) / 1e9;
                Forked.Outcome<Void> written = writer.await(Duration.ofSeconds(60));
                if (!Boolean.getBoolean("faults.break")) {
                    python.resume();
                    python.sendLine("read now");
                }
                Received got = python.awaitReceived();
                boolean ok = !result.delivered() && written.failure() != null && got.end() == Seen.End.RESET
                        && got.isPatternPrefix() && got.bytes() < TOTAL;
                pass &= ok;
                figures.add(String.format("%s writer: finish took %.2f s (deadline %d s), delivered=%s, unacknowledged %,d B,"
                                + " writer woke with %s after %,d B; peer read %,d B then %s",
                        kind.name().toLowerCase(), took, DEADLINE.toSeconds(), result.delivered(),
                        result.unacknowledgedBytes(), written.failure() == null ? "no exception"
                                : written.failure().getClass().getSimpleName(), conn.bytesWritten(), got.bytes(),
                        got.end()));
            }
        }
        FaultReport.row("frozen peer", pass, String.format("peer SO_RCVBUF 4,096 requested (8,192 effective), our SO_SNDBUF"
                + " %,d B, written %,d B; %s", sendBuffer, TOTAL, String.join("; ", figures)));
        assertTrue(pass, () -> String.join("\n", figures));
    }

    private static int unacknowledged(SocketOptions options) {
        try {
            return options.unacknowledged();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
