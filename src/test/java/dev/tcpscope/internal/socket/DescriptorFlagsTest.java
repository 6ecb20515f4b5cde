package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.SocketAddresses;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every socket the layer creates, connected, accepted, listening or not yet connected, IPv4 and
 * IPv6, is close-on-exec and non-blocking from birth. Checked twice on the descriptor: through
 * the layer's own {@link SocketOptions#isCloseOnExec()} and fcntl(F_GETFL), and independently in
 * the kernel's /proc/self/fdinfo.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DescriptorFlagsTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    /** O_CLOEXEC as /proc/PID/fdinfo reports it (octal 02000000 on Linux x86_64 and aarch64). */
    private static final int O_CLOEXEC = 02000000;
    private static final int O_NONBLOCK = Libc.O_NONBLOCK();

    private final Syscalls sys = LinuxSyscalls.INSTANCE;

    @Test
    void everyKindOfSocketIsCloseOnExecAndNonBlocking() throws Exception {
        NativeListener listener = Loopback.listen(sys, 4);
        NativeSocket unconnected = NativeSocket.open(sys, Poller.shared(), SocketAddresses.AF_INET);
        NativeSocket unconnected6 = NativeSocket.open(sys, Poller.shared(), SocketAddresses.AF_INET6);
        NativeSocket client = Loopback.connector(sys).connect(listener.localAddress(), Await.TIMEOUT, null, s -> {});
        NativeSocket accepted = listener.accept(Loopback.deadline());
        try {
            assertFlags("listener", listener.options(), Loopback.fd(listener));
            for (var named : List.of(new Named("unconnected", unconnected), new Named("unconnected IPv6", unconnected6),
                    new Named("client", client), new Named("accepted", accepted))) {
                assertFlags(named.name(), named.socket().options(), Loopback.fd(named.socket()));
            }
        } finally {
            listener.close();
            for (NativeSocket s : List.of(unconnected, unconnected6, client, accepted)) {
                s.close("done", null);
            }
        }
    }

    @Test
    void aListenerIsCloseOnExecBeforeBindAndAfterListen() throws Exception {
        NativeListener listener = NativeListener.open(sys, Poller.shared(), SocketAddresses.AF_INET6);
        try {
            assertFlags("fresh IPv6 listener", listener.options(), Loopback.fd(listener));
            listener.bind(new InetSocketAddress(Loopback.IPV6, 0));
            listener.listen(4);
            assertFlags("listening IPv6 listener", listener.options(), Loopback.fd(listener));
        } finally {
            listener.close();
        }
    }

    private record Named(String name, NativeSocket socket) {}

    private void assertFlags(String what, SocketOptions options, int fd) throws IOException {
        assertTrue(options.isCloseOnExec(), what + ": FD_CLOEXEC (fcntl F_GETFD)");
        int statusFlags = sys.fcntl(fd, Libc.F_GETFL());
        assertTrue(statusFlags >= 0, what + ": fcntl(F_GETFL) failed");
        assertEquals(O_NONBLOCK, statusFlags & O_NONBLOCK, what + ": O_NONBLOCK (fcntl F_GETFL)");

        int kernelFlags = fdinfoFlags(fd);
        assertEquals(O_CLOEXEC, kernelFlags & O_CLOEXEC, what + ": O_CLOEXEC in /proc/self/fdinfo/" + fd);
        assertEquals(O_NONBLOCK, kernelFlags & O_NONBLOCK, what + ": O_NONBLOCK in /proc/self/fdinfo/" + fd);
    }

    /** {@return the "flags:" field of /proc/self/fdinfo/FD, an octal number} */
    private static int fdinfoFlags(int fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return Integer.parseInt(line.substring("flags:".length()).trim(), 8);
            }
        }
        throw new AssertionError("no flags line in /proc/self/fdinfo/" + fd);
    }
}
