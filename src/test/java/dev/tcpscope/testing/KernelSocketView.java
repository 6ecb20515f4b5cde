package dev.tcpscope.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A socket of this process as the kernel holds it, read without tcpscope's or the JDK's code:
 * the socket is found by its ports in {@code /proc/net/tcp} (its inode) and {@code /proc/self/fd}
 * (its descriptor), and a C program ({@code socket_options_of.c}) duplicates that descriptor
 * with pidfd_getfd(2) and reads each option with getsockopt(2). Works on both transports: it
 * needs only the ports. Needs gcc, Linux 5.6 and ptrace access to this process (root here).
 */
public final class KernelSocketView {

    private final Path program;

    private KernelSocketView(Path program) {
        this.program = program;
    }

    /** {@return a view whose C program is compiled in {@code dir}} */
    public static KernelSocketView compile(Path dir) throws IOException, InterruptedException {
        return new KernelSocketView(CProgram.compile(KernelSocketView.class, "socket_options_of.c", dir));
    }

    /**
     * {@return the options of the TCP socket of this process with local port {@code localPort}
     * and remote port {@code remotePort} (0 for a listener), by their C names (SO_RCVBUF,
     * IP_TOS, TCP_USER_TIMEOUT, SO_LINGER_ONOFF...); an option whose getsockopt failed is absent}
     */
    public Map<String, Integer> options(int localPort, int remotePort) throws IOException, InterruptedException {
        long inode = inode(localPort, remotePort);
        int fd = descriptorOf(inode);
        String out = CProgram.run(program, Long.toString(ProcessHandle.current().pid()), Integer.toString(fd));
        Map<String, Integer> options = new HashMap<>();
        for (String line : out.strip().split("\n")) {
            String[] f = line.trim().split(" ");
            if (f.length == 2) {
                options.put(f[0], Integer.parseInt(f[1]));
            }
        }
        return options;
    }

    private static long inode(int localPort, int remotePort) throws IOException {
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines = Files.readAllLines(Path.of(table));
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (port(f[1]) == localPort && port(f[2]) == remotePort) {
                    return Long.parseLong(f[9]);
                }
            }
        }
        throw new AssertionError("no socket " + localPort + " -> " + remotePort + " in /proc/net/tcp{,6}");
    }

    private static int port(String address) {
        return Integer.parseInt(address.substring(address.indexOf(':') + 1), 16);
    }

    private static int descriptorOf(long inode) throws IOException {
        String target = "socket:[" + inode + "]";
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().equals(target);
                } catch (IOException e) {
                    return false; // a descriptor closed meanwhile
                }
            }).findFirst().map(fd -> Integer.parseInt(fd.getFileName().toString()))
                    .orElseThrow(() -> new AssertionError("no descriptor of this process is " + target));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
