package dev.tcpscope.peers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The kernel's view of a TCP socket of this network namespace, from {@code /proc/net/tcp} and
 * {@code /proc/net/tcp6}: how a test tells, without reading from it, whether a JDK peer's socket
 * got a RST. A socket that received our FIN sits in CLOSE_WAIT; one that then received a RST is
 * gone from the table (a reset socket is CLOSE, which the table does not list), even though a
 * read on it returns an ordinary end of stream.
 */
public final class TcpStates {

    /** TCP states as the kernel numbers them (include/net/tcp_states.h). */
    public enum State {
        UNKNOWN, ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK,
        LISTEN, CLOSING, NEW_SYN_RECV
    }

    private TcpStates() {}

    /**
     * {@return the state of the socket whose local port is {@code localPort} and whose remote
     * port is {@code remotePort}, or empty if the kernel lists none}
     */
    public static Optional<State> of(int localPort, int remotePort) {
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(table));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (port(f[1]) == localPort && port(f[2]) == remotePort) {
                    int st = Integer.parseInt(f[3], 16);
                    return Optional.of(st < State.values().length ? State.values()[st] : State.UNKNOWN);
                }
            }
        }
        return Optional.empty();
    }

    private static int port(String address) {
        return Integer.parseInt(address.substring(address.indexOf(':') + 1), 16);
    }
}
