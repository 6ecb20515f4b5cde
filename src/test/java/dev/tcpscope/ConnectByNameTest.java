package dev.tcpscope;

import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code connect(String host, int port)} on {@link TcpConnection} and {@link TcpScope}, seen by
 * the peer, on both transports.
 *
 * <p>Every address of the name is tried in turn: a child JVM ({@link ConnectByNameChild}) gets a
 * hosts file ({@code -Djdk.net.hosts.file}) in which {@code two-addresses.test} is first
 * 127.0.0.2, where nothing listens on the port (refused), then 127.0.0.1, where the peer listens;
 * the peer must read {@code hello} and FIN. Checked by breaking it on purpose: with
 * {@code HostAndPort.of} resolving the name itself to its first address only
 * ({@code InetAddress.getByName}), the child printed {@code FAILED java.net.ConnectException}
 * and both cases failed.
 *
 * <p>Bad input is refused before anything is opened, naming what was wrong.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConnectByNameTest {

    private static final String NAME = "two-addresses.test";

    @ParameterizedTest
    @ValueSource(strings = {"connection", "scope"})
    void everyAddressOfTheNameIsTriedInTurn(String api, @TempDir Path dir) throws Exception {
        Path hosts = Files.writeString(dir.resolve("hosts"), "127.0.0.2 " + NAME + "\n127.0.0.1 " + NAME + "\n");
        try (JdkPeer.Server peer = JdkPeer.Server.open()) { // 127.0.0.1 only: 127.0.0.2 refuses
            CompletableFuture<Seen> seen = peer.acceptReadToEndAndCloseAsync();
            try (ChildProcess child = ChildJvm.of(ConnectByNameChild.class)
                    .jvmOptions("-Djdk.net.hosts.file=" + hosts)
                    .start(NAME, Integer.toString(peer.port()), api)) {
                String line = child.nextLine();
                assertTrue(line.startsWith("CONNECTED ") && line.contains("127.0.0.1"), line);
            }
            seen.get(60, TimeUnit.SECONDS).assertEof("hello".getBytes(StandardCharsets.US_ASCII));
        }
    }

    @Test
    void aNullHostIsRefusedNamingTheHost() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> TcpConnection.connect(null, 80));
        assertEquals("host", e.getMessage());
        assertThrows(NullPointerException.class, () -> TcpConnection.connect(null, 80, Duration.ofSeconds(1)));
    }

    @Test
    void aBlankHostIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TcpConnection.connect(" ", 80));
        assertTrue(e.getMessage().contains("host is empty"), e.getMessage());
    }

    @Test
    void aPortOutOfRangeIsRefusedNamingThePort() {
        for (int port : new int[] {0, -1, 65_536}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> TcpConnection.connect("localhost", port));
            assertTrue(e.getMessage().contains("port out of range: " + port), e.getMessage());
        }
        try (var scope = TcpScope.open()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> scope.connect("localhost", 70_000));
            assertTrue(e.getMessage().contains("port out of range: 70000"), e.getMessage());
        }
    }

    @Test
    void aNameThatDoesNotResolveIsAnUnknownHostException() {
        assertThrows(java.net.UnknownHostException.class, () -> TcpConnection.connect("no-such-host.invalid", 80));
    }
}
