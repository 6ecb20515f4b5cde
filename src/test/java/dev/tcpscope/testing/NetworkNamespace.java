package dev.tcpscope.testing;

import org.junit.jupiter.api.Assumptions;
import org.opentest4j.AssertionFailedError;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A network namespace the test creates for itself ({@code ip netns add}), with only its loopback
 * interface up, in which a child process runs ({@link #exec}) and where traffic can be cut with
 * nftables ({@link #dropTcpTo}): faults no loopback connection of the test JVM can show, such as
 * a peer that stops acknowledging (this kernel has no netem). {@link #close()} deletes it, and
 * with it every socket and rule inside.
 *
 * <p>Needs root: {@link #create} skips the test (JUnit assumption) when not root. As root, any
 * failure fails the test. nftables is not on a fresh machine of this kind: {@link #dropTcpTo}
 * installs the Debian package {@code nftables} (apt-get) if {@code nft} is missing.
 */
public final class NetworkNamespace implements AutoCloseable {

    private static final long COMMAND_TIMEOUT_MINUTES = 5;
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private final String name;
    private final Path rules;

    private NetworkNamespace(String name, Path rules) {
        this.name = name;
        this.rules = rules;
    }

    /**
     * Creates a namespace named {@code prefix}, this process's id and a counter, and brings its
     * loopback interface up.
     *
     * @throws org.opentest4j.TestAbortedException when not running as root
     */
    public static NetworkNamespace create(String prefix) throws IOException, InterruptedException {
        Assumptions.assumeTrue(isRoot(), "creating a network namespace (ip netns add) needs root; uid is not 0");
        String name = prefix + "-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
        run(List.of(ip(), "netns", "add", name));
        NetworkNamespace namespace = new NetworkNamespace(name, Files.createTempFile("tcpscope-" + name, ".nft"));
        try {
            run(namespace.exec(ip(), "link", "set", "lo", "up"));
            return namespace;
        } catch (IOException | RuntimeException | Error e) {
            namespace.close();
            throw e;
        }
    }

    /** {@return the namespace's name} */
    public String name() {
        return name;
    }

    /** {@return {@code command} wrapped to run inside the namespace: {@code ip netns exec NAME command...}} */
    public List<String> exec(String... command) {
        List<String> wrapped = new ArrayList<>(List.of(ip(), "netns", "exec", name));
        wrapped.addAll(List.of(command));
        return wrapped;
    }

    /**
     * Drops, inside the namespace, every TCP segment arriving for {@code port} (nftables, input
     * hook): a peer listening there stops receiving and acknowledging; what it sends still arrives.
     */
    public void dropTcpTo(int port) throws IOException, InterruptedException {
        String nft = ensureNft();
        Files.writeString(rules, """
                table inet tcpscope_test {
                    chain input {
                        type filter hook input priority 0; policy accept;
                        tcp dport %d drop
                    }
                }
                """.formatted(port));
        run(exec(nft, "-f", rules.toString()));
    }

    /**
     * Sets a network sysctl of the namespace only (they are per network namespace), e.g.
     * {@code net.ipv4.ip_local_port_range} to {@code "40000 40001"}, by writing its file under
     * /proc/sys from inside the namespace.
     */
    public void sysctl(String name, String value) throws IOException, InterruptedException {
        if (!name.startsWith("net.") || name.contains("/") || name.contains("..")) {
            throw new IllegalArgumentException("not a network sysctl: " + name);
        }
        run(exec("sh", "-c", "printf '%s\\n' \"$1\" > \"/proc/sys/$2\"", "sh", value, name.replace('.', '/')));
    }

    /**
     * Cuts, inside the namespace, every TCP segment to or from its local {@code port} in both
     * directions (nftables, input and output hooks): a partition, as if a cable were pulled, for
     * the connections of a server listening on that port. {@link #removeRules()} heals it.
     */
    public void partitionTcpPort(int port) throws IOException, InterruptedException {
        String nft = ensureNft();
        Files.writeString(rules, """
                table inet tcpscope_test {
                    chain input {
                        type filter hook input priority 0; policy accept;
                        tcp dport %d drop
                    }
                    chain output {
                        type filter hook output priority 0; policy accept;
                        tcp sport %d drop
                    }
                }
                """.formatted(port, port));
        run(exec(nft, "-f", rules.toString()));
    }

    /** Removes the rules of {@link #dropTcpTo} or {@link #partitionTcpPort}: traffic flows again. */
    public void removeRules() throws IOException, InterruptedException {
        run(exec(ensureNft(), "delete", "table", "inet", "tcpscope_test"));
    }

    /** Deletes the namespace (its sockets and rules go with it). */
    @Override
    public void close() throws IOException, InterruptedException {
        try {
            run(List.of(ip(), "netns", "delete", name));
        } finally {
            Files.deleteIfExists(rules);
        }
    }

    @Override
    public String toString() {
        return "network namespace " + name;
    }

    private static boolean isRoot() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:")) {
                return line.split("\\s+")[2].equals("0"); // effective uid
            }
        }
        return false;
    }

    static String ip() {
        return CProgram.findOnPath("ip").or(() -> existing("/usr/sbin/ip", "/sbin/ip")).map(Path::toString)
                .orElseThrow(() -> new AssertionFailedError("the ip command (iproute2) is not installed"));
    }

    /** {@return the nft command, installing Debian's nftables first if it is missing} */
    private static synchronized String ensureNft() throws IOException, InterruptedException {
        var nft = CProgram.findOnPath("nft").or(() -> existing("/usr/sbin/nft", "/sbin/nft"));
        if (nft.isEmpty()) {
            Map<String, String> env = Map.of("DEBIAN_FRONTEND", "noninteractive");
            run(List.of("apt-get", "update"), env);
            run(List.of("apt-get", "install", "-y", "--no-install-recommends", "nftables"), env);
            nft = CProgram.findOnPath("nft").or(() -> existing("/usr/sbin/nft", "/sbin/nft"));
        }
        return nft.map(Path::toString)
                .orElseThrow(() -> new AssertionFailedError("nft not found after installing nftables"));
    }

    private static Optional<Path> existing(String... paths) {
        for (String p : paths) {
            if (Files.isExecutable(Path.of(p))) {
                return Optional.of(Path.of(p));
            }
        }
        return Optional.empty();
    }

    static void run(List<String> command) throws IOException, InterruptedException {
        run(command, Map.of());
    }

    /** Runs {@code command}; fails with its output unless it exits 0 in time. */
    private static void run(List<String> command, Map<String, String> environment)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile("tcpscope-command", ".out");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            builder.environment().putAll(environment);
            Process process = builder.start();
            if (!process.waitFor(COMMAND_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionFailedError(command + " did not finish within " + COMMAND_TIMEOUT_MINUTES
                        + " minutes:\n" + Files.readString(log, StandardCharsets.UTF_8));
            }
            if (process.exitValue() != 0) {
                throw new AssertionFailedError(command + " failed with exit code " + process.exitValue() + ":\n"
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
