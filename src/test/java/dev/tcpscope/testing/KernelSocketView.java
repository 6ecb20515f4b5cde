package dev.tcpscope.testing;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
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
 * needs only the ports. Needs gcc, Linux 5.6 and ptrace access to this process: the same user
 * has it unless Yama restricts ptrace to descendants ({@code kernel.yama.ptrace_scope = 1}, e.g.
 * Ubuntu's default), so this process first allows any tracer with
 * {@code prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY)} (a no-op without Yama).
 */
public final class KernelSocketView {

    private final Path program;

    private KernelSocketView(Path program) {
        this.program = program;
    }

    /** {@return a view whose C program is compiled in {@code dir}} */
    public static KernelSocketView compile(Path dir) throws IOException, InterruptedException {
        allowAnyTracer();
        return new KernelSocketView(CProgram.compile(KernelSocketView.class, "socket_options_of.c", dir));
    }

    /** prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY): lets the C program, our child, attach to us under Yama (descendants only). */
    private static void allowAnyTracer() {
        final int prSetPtracer = 0x59616d61; // "Yama", <linux/prctl.h>
        final long ptracerAny = -1L;          // (unsigned long) -1
        Linker linker = Linker.nativeLinker();
        try {
            MethodHandle prctl = linker.downcallHandle(linker.defaultLookup().findOrThrow("prctl"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
                    Linker.Option.firstVariadicArg(1));
            int ignored = (int) prctl.invokeExact(prSetPtracer, ptracerAny); // EINVAL without Yama: nothing to allow
        } catch (Throwable t) {
            throw new AssertionError("prctl(PR_SET_PTRACER) could not be called", t);
        }
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
