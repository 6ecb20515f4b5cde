package dev.tcpscope.bench;

import dev.tcpscope.bench.peers.JdkServer;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The lifecycle benchmark's JDK server alone in its own JVM ({@link ConnectionLifecycle}'s
 * {@code ServerProcessPeer}): the same handler as its in-process {@code JdkPeer}, on virtual
 * threads, so that the client's threads and the server's do not share carriers, as with a server
 * in another process in real use. Prints {@code port N} once it listens, serves until its
 * standard input ends, then exits.
 */
public final class LifecycleServerProcess {

    private LifecycleServerProcess() {}

    public static void main(String[] args) throws Exception {
        JdkServer server = JdkServer.start(Thread.ofVirtual().factory(), ConnectionLifecycle.JdkPeer::serve);
        System.out.println("port " + server.address().getPort());
        System.out.flush();
        InputStream in = System.in;
        while (in.read() >= 0) {
            // only the end of input counts
        }
        System.exit(0);
    }

    /** Starts the server process with this JVM's java, class path and flags; {@return it, listening} */
    static Process start() throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process process = new ProcessBuilder(List.of(java, "--enable-preview", "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"),
                LifecycleServerProcess.class.getName()))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        return process;
    }

    /** {@return the loopback address the server process printed} */
    static InetSocketAddress address(Process process) throws IOException {
        StringBuilder line = new StringBuilder();
        InputStream out = process.getInputStream();
        for (int c = out.read(); c >= 0 && c != '\n'; c = out.read()) {
            line.append((char) c);
        }
        if (!line.toString().startsWith("port ")) {
            process.destroyForcibly();
            throw new IOException("the lifecycle server process did not start: \"" + line + "\"");
        }
        return new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(),
                Integer.parseInt(line.substring("port ".length()).trim()));
    }
}
