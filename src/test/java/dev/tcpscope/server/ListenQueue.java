package dev.tcpscope.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * The kernel's accept queue of a listening socket, from {@code /proc/net/tcp} and
 * {@code /proc/net/tcp6}: for a socket in LISTEN state the {@code rx_queue} column is the number
 * of connections that completed the handshake and wait to be accepted.
 */
public final class ListenQueue {

    private static final String LISTEN = "0A";

    private ListenQueue() {}

    /** {@return connections waiting in the accept queue of the listener on {@code port}, or -1 if none listens} */
    public static int pending(int port) {
        return queue(port);
    }

    /**
     * {@return the accept queue's capacity (the backlog the kernel applied) of the listener on
     * {@code port}, as {@code ss -ltn} reports it in its Send-Q column, or -1 if none listens}
     *
     * @throws IOException {@code ss} (iproute2) could not be run
     */
    public static int capacity(int port) throws IOException, InterruptedException {
        Process ss = new ProcessBuilder("ss", "-Hltn", "sport = :" + port).redirectErrorStream(true).start();
        String out = new String(ss.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        if (ss.waitFor() != 0) {
            throw new IOException("ss failed: " + out);
        }
        if (out.isEmpty()) {
            return -1;
        }
        // State Recv-Q Send-Q Local Peer
        return Integer.parseInt(out.lines().findFirst().orElseThrow().trim().split("\\s+")[2]);
    }

    /** {@return whether the {@code ss} command (iproute2) can be run} */
    public static boolean ssAvailable() {
        try {
            return new ProcessBuilder("ss", "-V").redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static int queue(int port) {
        // For a listener, /proc/net/tcp's rx_queue is the number of connections waiting.
        for (String file : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(file));
            } catch (NoSuchFileException e) {
                continue; // no IPv6 in this kernel
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                // sl local_address rem_address st tx_queue:rx_queue ...
                String local = f[1];
                int localPort = Integer.parseInt(local.substring(local.lastIndexOf(':') + 1), 16);
                if (localPort == port && f[3].equals(LISTEN)) {
                    String queues = f[4];
                    return Integer.parseInt(queues.substring(queues.indexOf(':') + 1), 16);
                }
            }
        }
        return -1;
    }
}
