package dev.tcpscope;

import dev.tcpscope.peers.Pair;
import dev.tcpscope.peers.Pair.Side;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Patterns;
import dev.tcpscope.testing.ProcessDescriptors;
import dev.tcpscope.testing.Seen;
import dev.tcpscope.testing.TransportUnderTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TcpConnection#transferTo}, the pump of a relay (splice(2) through a pipe on native, a copy
 * loop on portable), seen from the two JDK peers at its ends: {@code client} talks to connection
 * {@code a}, connection {@code b} talks to {@code upstream}. Runs on both transports.
 *
 * <p>Checked by breaking on purpose, then restoring: SplicePump taking a 0 from the source as FIN
 * without settling the record ({@code aResetAnotherCallTook...} fails: the pump returns normally);
 * SplicePump's closes of the pipe removed (every test's pipe count fails); the pump returning at
 * the source's FIN with bytes still in the pipe ({@code aFinReadWhileThePipeHoldsBytes...} fails:
 * the client sees FIN before the last bytes; {@code bothDirections...} passed with that break);
 * SplicePump parking on the source whenever splice says EAGAIN, even with bytes in the pipe
 * ({@code aFullPipeIsDrained...} fails: the client's read times out, the pump waits on an upstream
 * that sends nothing; {@code bothDirections...} passed with that break, its source never pausing);
 * ConnectionOutput.discard waiting for the output lock again ({@code abortingTheTarget...} fails:
 * the abort never returns; RelayTest's reset cases hung the same way before the fix).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TransferToTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    /**
     * Both directions pump at once, 8 MiB one way and 3 MiB the other, through 4 KiB send buffers;
     * each pump returns at its source's FIN, the caller passes the FIN on, and each peer reads
     * every byte, then FIN. No pipe is left open.
     */
    @Test
    void bothDirectionsAtOnceEveryByteThenFin() throws Exception {
        List<String> pipesBefore = ProcessDescriptors.pipes();
        try (Pair client = Pair.open(Side.ACCEPTED); Pair upstream = Pair.open(Side.CONNECTED)) {
            TcpConnection a = client.connection();
            TcpConnection b = upstream.connection();
            SendBuffers.set(a, 4096);
            SendBuffers.set(b, 4096);
            int up = 8 << 20;
            int down = 3 << 20;
            CompletableFuture<Seen> upstreamSaw = upstream.peer().readToEndAsync();
            CompletableFuture<Seen> clientSaw = client.peer().readToEndAsync();
            Forked<Long> toUpstream = Forked.start(Forked.Kind.VIRTUAL, "a->b", () -> {
                long n = a.transferTo(b);
                b.shutdownOutput();
                return n;
            });
            Forked<Long> toClient = Forked.start(Forked.Kind.PLATFORM, "b->a", () -> {
                long n = b.transferTo(a);
                a.shutdownOutput();
                return n;
            });
            client.peer().writePattern(up);
            client.peer().sendFin();
            upstream.peer().writePattern(down);
            upstream.peer().sendFin();
            assertEquals(up, toUpstream.await().assertReturned());
            assertEquals(down, toClient.await().assertReturned());
            upstreamSaw.get(60, TimeUnit.SECONDS).assertEof(Patterns.bytes(0, up));
            clientSaw.get(60, TimeUnit.SECONDS).assertEof(Patterns.bytes(0, down));
            assertEquals(up, a.bytesRead());
            assertEquals(up, b.bytesWritten());
            TransportUnderTest.assertDelivered(a.finish());
            TransportUnderTest.assertDelivered(b.finish());
        }
        ProcessDescriptors.awaitSame("pipes", pipesBefore, ProcessDescriptors::pipes);
    }

    /**
     * Bytes the source's input stream view already took from its socket (its buffer) are moved
     * first, then the rest: the client reads every byte in order, then FIN. Checked: with
     * ConnectionTransfers.transfer not moving the buffered bytes, the client's stream lacked the
     * 99 bytes after the first (its pattern check failed).
     */
    @Test
    void bytesTheStreamViewBufferedGoFirst() throws Exception {
        try (Pair client = Pair.open(Side.ACCEPTED); Pair upstream = Pair.open(Side.CONNECTED)) {
            TcpConnection a = client.connection();
            TcpConnection b = upstream.connection();
            CompletableFuture<Seen> clientSaw = client.peer().readToEndAsync();
            int total = 64 * 1024;
            upstream.peer().write(Patterns.bytes(0, 100));
            Await.until("the first 100 bytes are queued", () -> {
                try {
                    return b.available() == 100;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            java.io.InputStream view = b.inputStream();
            int first = view.read(); // the view's buffer takes all 100; one is read
            a.write(new byte[] {(byte) first});
            upstream.peer().write(Patterns.bytes(100, total - 100));
            upstream.peer().sendFin();
            assertEquals(total - 1, b.transferTo(a));
            a.shutdownOutput();
            clientSaw.get(60, TimeUnit.SECONDS).assertEof(Patterns.bytes(0, total));
        }
    }

    /**
     * The upstream's bytes and its FIN are all queued before the pump starts, and the client's
     * side is slow (4 KiB send buffer towards a 4 KiB receive buffer): the pump reads the FIN while
     * the pipe still holds bytes, and must drain them before returning. The client reads every
     * byte, then FIN.
     */
    @Test
    void aFinReadWhileThePipeHoldsBytesWaitsForThemAll() throws Exception {
        try (JdkPeer.Server clientSide = JdkPeer.Server.open(4096);
             TcpConnection a = TcpConnection.connect(clientSide.address(), Await.TIMEOUT);
             JdkPeer client = clientSide.accept();
             Pair upstream = Pair.open(Side.CONNECTED)) {
            TcpConnection b = upstream.connection();
            SendBuffers.set(a, 4096);
            int total = 48 * 1024; // fits b's receive buffer, and the pipe (64 KiB)
            upstream.peer().writePattern(total);
            upstream.peer().sendFin();
            Await.until("the upstream's bytes are queued", () -> {
                try {
                    return b.available() == total;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            CompletableFuture<Seen> clientSaw = client.readToEndAsync();
            assertEquals(total, b.transferTo(a));
            a.shutdownOutput();
            clientSaw.get(60, TimeUnit.SECONDS).assertEof(Patterns.bytes(0, total));
            TransportUnderTest.assertDelivered(a.finish());
        }
    }

    /**
     * The upstream sends 1 MiB and then nothing for a while, towards a slow client side (4 KiB
     * send buffer, 4 KiB receive buffer): the pipe fills, and splice from the upstream says
     * EAGAIN with data still queued on the socket. The pump must drain the pipe rather than wait
     * for the upstream, which sends nothing more: the client receives the whole MiB before the
     * upstream's FIN.
     */
    @Test
    void aFullPipeIsDrainedWithoutWaitingForTheSource() throws Exception {
        try (JdkPeer.Server clientSide = JdkPeer.Server.open(4096);
             TcpConnection a = TcpConnection.connect(clientSide.address(), Await.TIMEOUT);
             JdkPeer client = clientSide.accept();
             Pair upstream = Pair.open(Side.CONNECTED)) {
            TcpConnection b = upstream.connection();
            SendBuffers.set(a, 4096);
            int total = 1 << 20;
            Forked<Long> pump = Forked.start(Forked.Kind.VIRTUAL, "b->a", () -> b.transferTo(a));
            upstream.peer().writePattern(total);
            byte[] got = client.readExactly(total); // before any FIN: only the pump can deliver them
            org.junit.jupiter.api.Assertions.assertArrayEquals(Patterns.bytes(0, total), got);
            upstream.peer().sendFin();
            assertEquals(total, pump.await().assertReturned());
        }
    }

    /**
     * Aborting the target while the pump waits for its source to send: the abort returns (it must
     * not wait for the output lock the pump holds), and aborting the source then wakes the pump.
     * What a scope does when it fails: it aborts its connections one after the other.
     */
    @Test
    void abortingTheTargetWhileThePumpWaitsOnTheSourceReturns() throws Exception {
        try (Pair client = Pair.open(Side.ACCEPTED); Pair upstream = Pair.open(Side.CONNECTED)) {
            TcpConnection a = client.connection();
            TcpConnection b = upstream.connection();
            Forked<Long> pump = Forked.start(Forked.Kind.VIRTUAL, "b->a", () -> b.transferTo(a));
            dev.tcpscope.testing.Parked.await(pump.thread());
            Forked<Void> abortA = Forked.start(Forked.Kind.PLATFORM, "abort a", () -> {
                a.abort();
                return null;
            });
            abortA.await(Await.TIMEOUT).assertReturned();
            b.abort();
            Throwable e = pump.await().failure();
            assertTrue(e instanceof ConnectionClosedException, "the pump wakes when its source ends: " + e);
            assertTrue(client.peer().readToEnd().isReset());
        }
    }

    /**
     * The upstream resets in the middle: the pump throws ConnectionResetException (never returns
     * as for a FIN), and once the relay aborts, the client reads a prefix of the bytes, then RST.
     */
    @Test
    void anUpstreamResetMidTransferReachesTheClientAsReset() throws Exception {
        List<String> pipesBefore = ProcessDescriptors.pipes();
        try (Pair client = Pair.open(Side.ACCEPTED); Pair upstream = Pair.open(Side.CONNECTED)) {
            TcpConnection a = client.connection();
            TcpConnection b = upstream.connection();
            CompletableFuture<Seen> clientSaw = client.peer().readToEndAsync();
            Forked<Long> toClient = Forked.start(Forked.Kind.VIRTUAL, "b->a", () -> b.transferTo(a));
            upstream.peer().writePattern(1 << 20);
            Await.until("the client received bytes", () -> client.peer().received() > 0);
            upstream.peer().reset();
            toClient.await().assertThrowsExactly(ConnectionResetException.class);
            a.abort();
            clientSaw.get(60, TimeUnit.SECONDS).assertReset(Patterns.bytes(0, 1 << 20));
        }
        ProcessDescriptors.awaitSame("pipes", pipesBefore, ProcessDescriptors::pipes);
    }

    /**
     * The remembered-error rule: the upstream's reset is taken by a write on another call first,
     * after which the kernel answers splice (like recv) with 0, what a FIN returns. The pump must
     * still throw the reset, not return as if the upstream had ended cleanly.
     */
    @Test
    void aResetAnotherCallTookIsStillAResetForThePump() throws Exception {
        try (Pair client = Pair.open(Side.ACCEPTED); Pair upstream = Pair.open(Side.CONNECTED)) {
            TcpConnection a = client.connection();
            TcpConnection b = upstream.connection();
            upstream.peer().reset();
            // A write to b takes the reset (ECONNRESET, or EPIPE once the RST was processed).
            assertThrows(ConnectionResetException.class, () -> {
                for (int i = 0; i < 1000; i++) {
                    b.write(new byte[1000]);
                }
            });
            assertThrows(ConnectionResetException.class, () -> b.transferTo(a));
            a.abort();
            assertTrue(client.peer().readToEnd().isReset(), "the client sees RST");
        }
    }

    /** A failure writing to the target (the client reset) throws from the pump and poisons nothing silently. */
    @Test
    void aClientResetDuringThePumpThrows() throws Exception {
        List<String> pipesBefore = ProcessDescriptors.pipes();
        try (Pair client = Pair.open(Side.ACCEPTED); Pair upstream = Pair.open(Side.CONNECTED)) {
            TcpConnection a = client.connection();
            TcpConnection b = upstream.connection();
            client.peer().reset();
            Forked<Long> toClient = Forked.start(Forked.Kind.VIRTUAL, "b->a", () -> b.transferTo(a));
            CompletableFuture<Void> writing = upstream.peer().writeAsync(Patterns.bytes(0, 4 << 20));
            var e = toClient.await().failure();
            assertTrue(e instanceof ConnectionResetException, "the client's reset: " + e);
            b.abort();
            try {
                writing.get(60, TimeUnit.SECONDS);
            } catch (ExecutionException resetByTheAbort) {
                // the upstream peer's write may end in the abort's RST
            }
        }
        ProcessDescriptors.awaitSame("pipes", pipesBefore, ProcessDescriptors::pipes);
    }
}
