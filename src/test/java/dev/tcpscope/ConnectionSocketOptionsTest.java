package dev.tcpscope;

import dev.tcpscope.peers.Pair;
import dev.tcpscope.peers.Pair.Side;
import dev.tcpscope.testing.KernelSocketView;
import dev.tcpscope.testing.TransportUnderTest;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TcpConnection#setOption}, {@code getOption} and {@code supportedOptions}, on both
 * transports, each value read back from the kernel without tcpscope's code or the JDK's
 * ({@link KernelSocketView}: the socket's descriptor duplicated into a C program with
 * pidfd_getfd, which calls getsockopt).
 *
 * <p>Checked by breaking it on purpose (native run): with NativeOptionMapping giving
 * TCP_KEEPINTERVAL the number of TCP_KEEPIDLE, {@code everyOptionReachesTheKernel} failed
 * (TCP_KEEPIDLE read 7); with SO_LINGER passed through to setsockopt instead of refused,
 * {@code soLingerIsRefusedAndTheAbortStays} failed (nothing thrown); with IP_TOS's range check
 * removed, {@code outOfRangeValuesAreRefusedNamingOptionAndValue} failed (Linux took 256 without
 * complaint); with TCP_USER_TIMEOUT truncated instead of rounded up, a timeout of 1 ns reached the
 * kernel as 0 (off) and {@code userTimeoutIsNativeOnlyAndRoundsUpToAMillisecond} failed.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConnectionSocketOptionsTest {

    private static KernelSocketView kernel;

    @BeforeAll
    static void compileTheView(@TempDir Path dir) throws Exception {
        kernel = KernelSocketView.compile(dir);
    }

    private static Map<String, Integer> kernelView(TcpConnection conn) throws Exception {
        return kernel.options(conn.localAddress().getPort(), conn.remoteAddress().getPort());
    }

    /** One row: the option, the value set, the C name, and what the kernel must then hold. */
    private record Row<T>(SocketOption<T> option, T value, String cName, int kernelValue) {
        void set(TcpConnection conn) throws Exception {
            conn.setOption(option, value);
        }
    }

    private static List<Row<?>> rows() {
        List<Row<?>> rows = new ArrayList<>(List.of(
                new Row<>(StandardSocketOptions.TCP_NODELAY, true, "TCP_NODELAY", 1),
                new Row<>(StandardSocketOptions.SO_KEEPALIVE, true, "SO_KEEPALIVE", 1),
                new Row<>(StandardSocketOptions.SO_RCVBUF, 40_000, "SO_RCVBUF", 80_000),     // Linux doubles it
                new Row<>(StandardSocketOptions.SO_SNDBUF, 32_768, "SO_SNDBUF", 65_536),
                new Row<>(StandardSocketOptions.IP_TOS, 0x28, "IP_TOS", 0x28),
                new Row<>(ExtendedSocketOptions.TCP_KEEPIDLE, 100, "TCP_KEEPIDLE", 100),
                new Row<>(ExtendedSocketOptions.TCP_KEEPINTERVAL, 7, "TCP_KEEPINTVL", 7),
                new Row<>(ExtendedSocketOptions.TCP_KEEPCOUNT, 3, "TCP_KEEPCNT", 3)));
        if (!TransportUnderTest.portable()) {
            rows.add(new Row<>(TcpOptions.TCP_USER_TIMEOUT, Duration.ofMillis(1500), "TCP_USER_TIMEOUT", 1500));
        }
        return rows;
    }

    @ParameterizedTest
    @EnumSource(Side.class)
    void everyOptionReachesTheKernel(Side side) throws Exception {
        try (Pair p = Pair.open(side)) {
            TcpConnection conn = p.connection();
            Map<String, Integer> before = kernelView(conn);
            for (Row<?> row : rows()) {
                assertTrue(before.get(row.cName()) != row.kernelValue(), row + " is already the default: no proof");
                row.set(conn);
            }
            Map<String, Integer> after = kernelView(conn);
            for (Row<?> row : rows()) {
                assertEquals(row.kernelValue(), after.get(row.cName()), row::toString);
                Object read = conn.getOption(row.option());
                Object expected = row.option() == TcpOptions.TCP_USER_TIMEOUT ? Duration.ofMillis(row.kernelValue())
                        : row.option().type() == Boolean.class ? (Object) (row.kernelValue() != 0) : row.kernelValue();
                assertEquals(expected, read, () -> "getOption reads the kernel's value: " + row);
            }
            assertTrue(conn.noDelay());
            assertTrue(conn.keepAlive());
            conn.noDelay(false);
            conn.keepAlive(false);
            Map<String, Integer> typed = kernelView(conn);
            assertEquals(0, typed.get("TCP_NODELAY"));
            assertEquals(0, typed.get("SO_KEEPALIVE"));
            assertFalse(conn.noDelay());
        }
    }

    @Test
    void userTimeoutIsNativeOnlyAndRoundsUpToAMillisecond() throws Exception {
        try (Pair p = Pair.open(Side.CONNECTED)) {
            TcpConnection conn = p.connection();
            if (TransportUnderTest.portable()) {
                assertFalse(conn.supportedOptions().contains(TcpOptions.TCP_USER_TIMEOUT));
                UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                        () -> conn.setOption(TcpOptions.TCP_USER_TIMEOUT, Duration.ofSeconds(1)));
                assertTrue(e.getMessage().contains("TCP_USER_TIMEOUT"), e.getMessage());
                assertThrows(UnsupportedOperationException.class, () -> conn.getOption(TcpOptions.TCP_USER_TIMEOUT));
                return;
            }
            conn.setOption(TcpOptions.TCP_USER_TIMEOUT, Duration.ofNanos(1));
            assertEquals(1, kernelView(conn).get("TCP_USER_TIMEOUT"), "a positive timeout never becomes 0 (off)");
            conn.setOption(TcpOptions.TCP_USER_TIMEOUT, Duration.ZERO);
            assertEquals(0, kernelView(conn).get("TCP_USER_TIMEOUT"));
            assertEquals(Duration.ZERO, conn.getOption(TcpOptions.TCP_USER_TIMEOUT));
        }
    }

    @Test
    void supportedOptionsAreTheTransports() throws Exception {
        try (Pair p = Pair.open(Side.CONNECTED)) {
            Set<SocketOption<?>> expected = new java.util.LinkedHashSet<>(List.of(
                    StandardSocketOptions.TCP_NODELAY, StandardSocketOptions.SO_KEEPALIVE,
                    StandardSocketOptions.SO_RCVBUF, StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.IP_TOS,
                    ExtendedSocketOptions.TCP_KEEPIDLE, ExtendedSocketOptions.TCP_KEEPINTERVAL,
                    ExtendedSocketOptions.TCP_KEEPCOUNT));
            if (!TransportUnderTest.portable()) {
                expected.add(TcpOptions.TCP_USER_TIMEOUT);
            }
            assertEquals(expected, p.connection().supportedOptions());
            assertThrows(UnsupportedOperationException.class, () -> p.connection().supportedOptions().clear());
        }
    }

    @Test
    void soLingerIsRefusedAndTheAbortStays() throws Exception {
        try (Pair p = Pair.open(Side.CONNECTED)) {
            TcpConnection conn = p.connection();
            UnsupportedOperationException set = assertThrows(UnsupportedOperationException.class,
                    () -> conn.setOption(StandardSocketOptions.SO_LINGER, 5));
            assertTrue(set.getMessage().contains("SO_LINGER") && set.getMessage().contains("finish()"), set.getMessage());
            assertThrows(UnsupportedOperationException.class, () -> conn.getOption(StandardSocketOptions.SO_LINGER));
            Map<String, Integer> view = kernelView(conn);
            assertEquals(1, view.get("SO_LINGER_ONOFF"), "still aborting by default");
            assertEquals(0, view.get("SO_LINGER_SECONDS"));
            conn.abort();
            p.peer().readToEnd().assertReset();
        }
    }

    @Test
    void unknownOptionsAreRefusedNamingThem() throws Exception {
        try (Pair p = Pair.open(Side.CONNECTED)) {
            TcpConnection conn = p.connection();
            for (SocketOption<Boolean> option : List.of(StandardSocketOptions.SO_BROADCAST,
                    StandardSocketOptions.SO_REUSEPORT)) {
                UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                        () -> conn.setOption(option, true));
                assertTrue(e.getMessage().contains("'" + option.name() + "' not supported"), e.getMessage());
                assertThrows(UnsupportedOperationException.class, () -> conn.getOption(option));
            }
            assertThrows(NullPointerException.class, () -> conn.setOption(null, 1));
        }
    }

    @Test
    void outOfRangeValuesAreRefusedNamingOptionAndValue() throws Exception {
        try (Pair p = Pair.open(Side.CONNECTED)) {
            TcpConnection conn = p.connection();
            Map<String, Integer> before = kernelView(conn);
            refused(conn, StandardSocketOptions.IP_TOS, 256, "IP_TOS out of range: 256");
            refused(conn, StandardSocketOptions.IP_TOS, -1, "IP_TOS out of range: -1");
            refused(conn, StandardSocketOptions.SO_RCVBUF, -1, "SO_RCVBUF out of range: -1");
            refused(conn, StandardSocketOptions.SO_SNDBUF, -5, "SO_SNDBUF out of range: -5");
            refused(conn, ExtendedSocketOptions.TCP_KEEPIDLE, 0, "TCP_KEEPIDLE out of range: 0");
            refused(conn, ExtendedSocketOptions.TCP_KEEPIDLE, 32_768, "TCP_KEEPIDLE out of range: 32768");
            refused(conn, ExtendedSocketOptions.TCP_KEEPINTERVAL, 0, "TCP_KEEPINTERVAL out of range: 0");
            refused(conn, ExtendedSocketOptions.TCP_KEEPCOUNT, 128, "TCP_KEEPCOUNT out of range: 128");
            refused(conn, StandardSocketOptions.TCP_NODELAY, null, "TCP_NODELAY: the value must not be null");
            if (!TransportUnderTest.portable()) {
                refused(conn, TcpOptions.TCP_USER_TIMEOUT, Duration.ofMillis(-1), "TCP_USER_TIMEOUT out of range: PT-0.001S");
                refused(conn, TcpOptions.TCP_USER_TIMEOUT, Duration.ofDays(30), "TCP_USER_TIMEOUT out of range: PT720H");
            }
            assertEquals(before, kernelView(conn), "a refused value changes nothing");
        }
    }

    private static <T> void refused(TcpConnection conn, SocketOption<T> option, T value, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> conn.setOption(option, value));
        assertTrue(e.getMessage().startsWith(message), () -> "expected \"" + message + "...\", got: " + e.getMessage());
    }
}
