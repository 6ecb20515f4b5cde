package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.internal.poll.Readiness;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How the end of a connection looks through the layer, against a JDK {@link Socket} peer:
 * a peer's reset (SO_LINGER {1,0}, then close) lets us read what it sent first, then throws
 * {@link ConnectionResetException} on every later read and write (Linux reports it once and would
 * then read 0, like a FIN); a peer's FIN reads as -1, every time. And the other way round: what
 * the JDK peer sees when we close with SO_LINGER {1,0} or plainly.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PeerEndingTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final byte[] PARTIAL = "partial message".getBytes(StandardCharsets.US_ASCII);

    private final Syscalls sys = LinuxSyscalls.INSTANCE;
    private ServerSocket jdkServer;
    private NativeSocket ours;
    private Socket peer;

    @BeforeEach
    void connect() throws IOException {
        jdkServer = new ServerSocket(0, 4, Loopback.IPV4);
        jdkServer.setSoTimeout(10_000);
        ours = Loopback.connector(sys).connect(
                new InetSocketAddress(Loopback.IPV4, jdkServer.getLocalPort()), Await.TIMEOUT, null, s -> {});
        peer = jdkServer.accept();
        peer.setSoTimeout(10_000);
    }

    @AfterEach
    void close() throws IOException {
        ours.close("test over", null);
        peer.close();
        jdkServer.close();
    }

    @Test
    void aPeerResetDeliversTheBytesSentBeforeItThenThrowsOnEveryLaterReadAndWrite() throws Exception {
        peer.setSoLinger(true, 0);
        peer.getOutputStream().write(PARTIAL);
        peer.close(); // RST

        assertArrayEquals(PARTIAL, Loopback.readExactly(ours, PARTIAL.length), "bytes sent before the reset");
        MemorySegment buffer = MemorySegment.ofArray(new byte[64]);
        assertThrowsExactly(ConnectionResetException.class, () -> ours.read(buffer, Loopback.deadline()));
        assertTrue(ours.wasReset());
        // Linux has reported ECONNRESET once and now reads 0; the layer must not turn that into -1.
        assertThrowsExactly(ConnectionResetException.class, () -> ours.read(buffer, Loopback.deadline()));
        assertThrowsExactly(ConnectionResetException.class, () -> ours.read(buffer, Loopback.deadline()));
        assertThrowsExactly(ConnectionResetException.class, () -> Loopback.write(ours, PARTIAL));
    }

    @Test
    void aWriteToAResetPeerThrowsConnectionReset() throws Exception {
        peer.setSoLinger(true, 0);
        peer.close(); // RST
        Await.until("the reset arrived", () -> {
            try {
                return ours.options().getInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_ERROR) != 0 || ours.wasReset();
            } catch (IOException e) {
                return true;
            }
        });
        // SO_ERROR was read (and cleared) above: the kernel now answers EPIPE, also a reset.
        assertThrowsExactly(ConnectionResetException.class, () -> Loopback.write(ours, PARTIAL));
        assertTrue(ours.wasReset());
        assertThrowsExactly(ConnectionResetException.class,
                () -> ours.read(MemorySegment.ofArray(new byte[8]), Loopback.deadline()));
    }

    @Test
    void aPeerFinReadsAsMinusOneEveryTime() throws Exception {
        peer.getOutputStream().write(PARTIAL);
        peer.close(); // FIN

        assertArrayEquals(PARTIAL, Loopback.readExactly(ours, PARTIAL.length));
        MemorySegment buffer = MemorySegment.ofArray(new byte[64]);
        assertEquals(-1, ours.read(buffer, Loopback.deadline()));
        assertEquals(-1, ours.read(buffer, Loopback.deadline()));
        assertFalse(ours.wasReset());
    }

    @Test
    void aParkedReaderIsWokenByThePeersFinWithMinusOne() throws Exception {
        Forked<Integer> reader = Forked.start(Forked.Kind.VIRTUAL, "reader",
                () -> ours.read(MemorySegment.ofArray(new byte[8]), Deadline.NONE));
        Parked.await(reader.thread());
        peer.close();
        assertEquals(-1, reader.await().assertReturned());
    }

    @Test
    void aParkedReaderIsWokenByThePeersResetWithConnectionReset() throws Exception {
        Forked<Integer> reader = Forked.start(Forked.Kind.VIRTUAL, "reader",
                () -> ours.read(MemorySegment.ofArray(new byte[8]), Deadline.NONE));
        Parked.await(reader.thread());
        peer.setSoLinger(true, 0);
        peer.close();
        reader.await().assertThrowsExactly(ConnectionResetException.class);
        assertTrue(ours.wasReset());
    }

    /** A writer parked on a full send buffer is woken by the peer's reset (EPOLLERR/EPOLLHUP). */
    @Test
    void aParkedWriterIsWokenByThePeersResetWithConnectionReset() throws Exception {
        try (ServerSocket smallServer = new ServerSocket()) {
            smallServer.setReceiveBufferSize(Loopback.SMALL_BUFFER); // inherited by the accepted socket
            smallServer.bind(new InetSocketAddress(Loopback.IPV4, 0), 1);
            smallServer.setSoTimeout(10_000);
            NativeSocket writerSide = Loopback.connector(sys).connect(
                    new InetSocketAddress(Loopback.IPV4, smallServer.getLocalPort()), Await.TIMEOUT, null,
                    s -> s.options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_SNDBUF, Loopback.SMALL_BUFFER));
            try (Socket nonReader = smallServer.accept()) {
                Forked<Void> writer = Forked.start(Forked.Kind.VIRTUAL, "writer", () -> {
                    writerSide.write(MemorySegment.ofArray(new byte[4 << 20]), Deadline.NONE);
                    return null;
                });
                Parked.await(writer.thread());
                nonReader.setSoLinger(true, 0);
                nonReader.close();
                writer.await().assertThrowsExactly(ConnectionResetException.class);
                assertTrue(writerSide.wasReset());
            } finally {
                writerSide.close("done", null);
            }
        }
    }

    @Test
    void aPeerHalfCloseLeavesOurOutputOpen() throws Exception {
        peer.shutdownOutput();
        assertEquals(-1, ours.read(MemorySegment.ofArray(new byte[8]), Loopback.deadline()));
        Loopback.write(ours, PARTIAL);
        assertArrayEquals(PARTIAL, peer.getInputStream().readNBytes(PARTIAL.length));
    }

    @Test
    void ourAbortingCloseIsSeenByThePeerAsAReset() throws Exception {
        ours.options().setLinger(SocketOptions.Linger.ABORT);
        Loopback.write(ours, PARTIAL);
        assertArrayEquals(PARTIAL, peer.getInputStream().readNBytes(PARTIAL.length));
        ours.close("aborted by test", null);

        SocketException e = assertThrows(SocketException.class, () -> peer.getInputStream().read());
        assertTrue(e.getMessage().contains("reset"), e.getMessage());
    }

    @Test
    void ourPlainCloseIsSeenByThePeerAsTheEndAfterEveryByte() throws Exception {
        Loopback.write(ours, PARTIAL);
        ours.close("closed by test", null);
        assertArrayEquals(PARTIAL, peer.getInputStream().readAllBytes());
    }

    @Test
    void shutdownOutputSendsFinAndReadingGoesOn() throws Exception {
        Loopback.write(ours, PARTIAL);
        ours.shutdownOutput();
        assertArrayEquals(PARTIAL, peer.getInputStream().readAllBytes(), "everything, then the end");
        peer.getOutputStream().write(PARTIAL);
        assertArrayEquals(PARTIAL, Loopback.readExactly(ours, PARTIAL.length));
        assertThrowsExactly(ConnectionClosedException.class, () -> Loopback.write(ours, PARTIAL),
                "writing after our own shutdown is our doing, not the peer's");
    }
}
