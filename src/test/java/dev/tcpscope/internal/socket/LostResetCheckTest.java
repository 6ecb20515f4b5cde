package dev.tcpscope.internal.socket;

import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LostResetCheck}, made deterministic: the reset is taken out of the socket by a call that
 * records nothing — here getsockopt(SO_ERROR) made directly through the syscalls, standing for
 * the sendmsg inside a splice or sendfile that then returns a byte count (Linux's
 * {@code splice_to_socket}; RelayResetRaceTest shows the real race). Native transport only (this
 * package is not in the portable execution).
 *
 * <p>Checked by breaking on purpose, then restoring: LostResetCheck.afterZeroRead returning null
 * at once ({@code aResetTakenUnrecorded...} fails: the read returns -1); comparing the state with
 * TCP_ESTABLISHED instead of TCP_CLOSE (the same test fails); taking every state for a reset
 * ({@code aFinAfterAZeroCopySend...} fails: the FIN reads as a reset).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LostResetCheckTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

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

    /** After a sendFile, a reset that no call recorded still reads as a reset, not as the peer's FIN. */
    @Test
    void aResetTakenUnrecordedAfterAZeroCopySendReadsAsReset(@TempDir Path dir) throws Exception {
        sendAFile(dir);
        peer.setSoLinger(true, 0);
        peer.close(); // RST
        takeThePendingErrorUnrecorded();
        var e = assertThrowsExactly(ConnectionResetException.class,
                () -> ours.read(MemorySegment.ofArray(new byte[8]), Loopback.deadline()));
        assertTrue(e.getMessage().contains("splice or sendfile"), e.getMessage());
        assertTrue(ours.wasReset());
    }

    /** The check does not invent resets: after a sendFile, a peer's FIN still reads as -1 (CLOSE_WAIT). */
    @Test
    void aFinAfterAZeroCopySendReadsAsMinusOne(@TempDir Path dir) throws Exception {
        sendAFile(dir);
        peer.shutdownOutput(); // FIN
        assertEquals(-1, ours.read(MemorySegment.ofArray(new byte[8]), Loopback.deadline()));
        assertEquals(-1, ours.read(MemorySegment.ofArray(new byte[8]), Loopback.deadline()));
    }

    private void sendAFile(Path dir) throws IOException {
        Path file = dir.resolve("file");
        Files.write(file, new byte[100]);
        assertEquals(100, ours.sendFile(file, 0, -1, Loopback.deadline()));
        assertEquals(100, peer.getInputStream().readNBytes(100).length);
    }

    /** Reads SO_ERROR through the syscalls, not the record, until it returns the reset: taken, and lost. */
    private void takeThePendingErrorUnrecorded() throws IOException {
        int fd = Loopback.fd(ours);
        Await.until("the reset arrived and was taken", () -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
                MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
                length.set(ValueLayout.JAVA_INT, 0, 4);
                int r = sys.getsockopt(fd, SocketOptions.SOL_SOCKET, SocketOptions.SO_ERROR, value, length);
                return r == 0 && value.get(ValueLayout.JAVA_INT, 0) == Errno.ECONNRESET;
            }
        });
    }
}
