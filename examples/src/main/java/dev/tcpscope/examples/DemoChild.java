package dev.tcpscope.examples;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The process that dies in the demo's last three scenarios: it connects to the demo's peer, sends
 * the first half of a response, says READY on stdout, then ends by {@code System.exit},
 * {@code Runtime.halt}, or waits to be killed with SIGKILL.
 *
 * <p>Usage: {@code DemoChild jdk|tcpscope exit|halt|kill PORT}. The demo's side — starting it
 * with that command line and recording what its peer saw — is here too ({@link #observeChild}).
 */
public final class DemoChild {

    /** Keeps the connection reachable until the process dies (no Cleaner may close it first). */
    static volatile Object keepOpen;

    private DemoChild() {}

    public static void main(String[] args) throws Exception {
        String variant = args[0];
        String death = args[1];
        InetSocketAddress peer = new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(args[2]));
        byte[] half = Demo.responsePart(2);
        // Deliberately held open, not closed: the process is about to die with it.
        if (variant.equals("jdk")) {
            Socket socket = new Socket(peer.getAddress(), peer.getPort());
            OutputStream out = socket.getOutputStream();
            out.write(half);
            out.flush();
            keepOpen = socket;
        } else {
            TcpConnection connection = TcpConnection.connect(peer);
            connection.write(half);
            keepOpen = connection;
        }
        System.out.println("READY");
        System.out.flush();
        switch (death) {
            case "exit" -> System.exit(1);
            case "halt" -> Runtime.getRuntime().halt(1);
            default -> {
                System.in.read(); // until SIGKILL
            }
        }
    }

    // ------------------------------------------------------------------ the demo's side: start it, watch its peer

    /** A child JVM connects to our peer, sends half a response and dies as {@code death} says. */
    static PeerObservation observeChild(String variant, String death) throws Exception {
        try (TcpListener listener = TcpListener.bind(Demo.LOOPBACK_ANY_PORT)) {
            Process child = new ProcessBuilder(childCommand(variant, death, listener.localAddress().getPort()))
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            try {
                TcpConnection peer = listener.accept(Demo.QUIET);
                try (peer) {
                    BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                    String line = lines.readLine();
                    if (!"READY".equals(line)) {
                        throw new IllegalStateException("the demo's child process did not start: " + line);
                    }
                    if (death.equals("kill")) {
                        child.destroyForcibly(); // SIGKILL on Linux
                    }
                    return PeerObservation.readToEnd(peer, Demo.QUIET);
                }
            } finally {
                child.destroyForcibly();
                child.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static List<String> childCommand(String variant, String death, int port) {
        String javaBinary = ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String classPath = String.join(java.io.File.pathSeparator,
                codeLocation(Demo.class), codeLocation(TcpConnection.class));
        List<String> command = new ArrayList<>(List.of(javaBinary, "--enable-preview", "--enable-native-access=ALL-UNNAMED"));
        String transport = System.getProperty("tcpscope.transport");
        if (transport != null) { // the child ends its connection on the transport the demo was asked for
            command.add("-Dtcpscope.transport=" + transport);
        }
        command.addAll(List.of("-cp", classPath, DemoChild.class.getName(), variant, death, Integer.toString(port)));
        return command;
    }

    private static String codeLocation(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
