package dev.tcpscope;

import dev.tcpscope.peers.Pair;
import dev.tcpscope.peers.Pair.Side;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.Parked;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Patterns;
import dev.tcpscope.testing.ProcessDescriptors;
import dev.tcpscope.testing.Seen;
import dev.tcpscope.testing.TransportUnderTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TcpConnection#sendFile}: sendfile(2) on native, {@code FileChannel.transferTo} on
 * portable, seen from a JDK peer; the file's descriptor is closed on every path. Runs on both
 * transports.
 *
 * <p>Checked by breaking on purpose, then restoring: FileSend's close of the file descriptor
 * removed (every test's "no descriptor left on the file" fails); the offset cell set to 0 instead
 * of the position ({@code aRangeOfTheFile} fails); a 0 from sendfile taken as success when a count
 * was asked for ({@code aFileShorterThanTheCount} fails: no EOFException); open's ENOENT mapped to
 * a SystemCallException ({@code aMissingFile} fails); sendfile's EINVAL no longer taken for a
 * file error, so remembered as the connection's ({@code aFileErrorIsNot...} fails: the write after
 * it throws the remembered error).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FileSendTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    private static Path patternFile(Path dir, int size) throws IOException {
        Path file = dir.resolve("pattern-" + size + ".bin");
        Files.write(file, Patterns.bytes(0, size));
        return file;
    }

    /** A 3 MiB file through a 4 KiB send buffer (many EAGAINs): every byte, then FIN after finish(). */
    @Test
    void aLargeFileArrivesWholeThenFin(@TempDir Path dir) throws Exception {
        int size = 3 << 20;
        Path file = patternFile(dir, size);
        try (Pair p = Pair.open(Side.ACCEPTED)) {
            TcpConnection conn = p.connection();
            SendBuffers.set(conn, 4096);
            CompletableFuture<Seen> seen = p.peer().readToEndAsync();
            conn.write(new byte[] {'H'});
            assertEquals(size, conn.sendFile(file));
            assertEquals(size + 1, conn.bytesWritten());
            TransportUnderTest.assertDelivered(conn.finish());
            byte[] expected = new byte[size + 1];
            expected[0] = 'H';
            System.arraycopy(Patterns.bytes(0, size), 0, expected, 1, size);
            seen.get(60, TimeUnit.SECONDS).assertEof(expected);
        }
        assertTrue(ProcessDescriptors.openOn(file).isEmpty(), "no descriptor left on the file");
    }

    /** The (position, count) overload sends exactly that range; an empty file sends nothing. */
    @Test
    void aRangeOfTheFile(@TempDir Path dir) throws Exception {
        Path file = patternFile(dir, 100_000);
        Path empty = Files.createFile(dir.resolve("empty"));
        try (Pair p = Pair.open(Side.CONNECTED)) {
            TcpConnection conn = p.connection();
            assertEquals(0, conn.sendFile(empty));
            assertEquals(30_000, conn.sendFile(file, 12_345, 30_000));
            TransportUnderTest.assertDelivered(conn.finish());
            p.peer().readToEnd().assertEof(Arrays.copyOfRange(Patterns.bytes(0, 100_000), 12_345, 42_345));
        }
        assertTrue(ProcessDescriptors.openOn(file).isEmpty(), "no descriptor left on the file");
    }

    /** A missing file: NoSuchFileException naming it, nothing sent, the connection still writable. */
    @Test
    void aMissingFileIsNoSuchFileAndSendsNothing(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing.bin");
        try (Pair p = Pair.open(Side.CONNECTED)) {
            TcpConnection conn = p.connection();
            var e = assertThrows(NoSuchFileException.class, () -> conn.sendFile(missing));
            assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
            assertFalse(conn.isPoisoned());
            conn.write(new byte[] {7});
            TransportUnderTest.assertDelivered(conn.finish());
            p.peer().readToEnd().assertEof(new byte[] {7});
        }
    }

    /**
     * A directory: the file's error (sendfile's EINVAL on native, read's "Is a directory" on
     * portable) is an IOException that is not the connection's: nothing was sent, nothing is
     * remembered, and the connection goes on and ends with FIN.
     */
    @Test
    void aFileErrorIsNotTheConnectionsError(@TempDir Path dir) throws Exception {
        try (Pair p = Pair.open(Side.CONNECTED)) {
            TcpConnection conn = p.connection();
            var e = assertThrows(IOException.class, () -> conn.sendFile(dir));
            assertFalse(e instanceof ConnectionResetException || e instanceof ConnectionClosedException, e.toString());
            assertFalse(conn.isPoisoned());
            conn.write(new byte[] {1, 2});
            TransportUnderTest.assertDelivered(conn.finish());
            p.peer().readToEnd().assertEof(new byte[] {1, 2});
        }
    }

    /**
     * A file shorter than the count asked for: EOFException after the bytes it had went out; the
     * connection is poisoned, and the peer sees those bytes, then RST (never a clean end).
     */
    @Test
    void aFileShorterThanTheCountPoisonsAndTheEndingIsReset(@TempDir Path dir) throws Exception {
        Path file = patternFile(dir, 5000);
        try (Pair p = Pair.open(Side.ACCEPTED)) {
            TcpConnection conn = p.connection();
            assertThrows(EOFException.class, () -> conn.sendFile(file, 0, 9000));
            assertTrue(conn.isPoisoned());
            assertFalse(conn.finish().delivered());
            p.peer().readToEnd().assertReset(Patterns.bytes(0, 5000));
        }
        assertTrue(ProcessDescriptors.openOn(file).isEmpty(), "no descriptor left on the file");
    }

    /**
     * A peer that resets while the file is going out: the send throws ConnectionResetException,
     * the file descriptor is closed, and later writes report the same reset.
     */
    @Test
    void aResetMidFileThrowsTheResetAndClosesTheFile(@TempDir Path dir) throws Exception {
        Path file = patternFile(dir, 32 << 20);
        try (JdkPeer.Server server = JdkPeer.Server.open(4096);
             TcpConnection conn = TcpConnection.connect(server.address(), Duration.ofSeconds(10));
             JdkPeer peer = server.accept()) {
            SendBuffers.set(conn, 4096);
            Forked<Long> sending = Forked.start(Forked.Kind.VIRTUAL, "sendFile", () -> conn.sendFile(file));
            Parked.await(sending.thread()); // the send buffer and the peer's receive buffer are full
            peer.reset();
            Throwable e = sending.await().failure();
            assertTrue(e instanceof ConnectionResetException, "the reset: " + e);
            assertThrows(ConnectionResetException.class, () -> conn.write(new byte[1]));
            List<String> none = List.of();
            ProcessDescriptors.awaitSame("descriptors on the file", none, () -> ProcessDescriptors.openOn(file));
        }
    }
}
