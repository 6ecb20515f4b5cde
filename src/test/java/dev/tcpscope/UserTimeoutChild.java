package dev.tcpscope;

import dev.tcpscope.internal.socket.SocketOptions;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The child JVM of {@link UserTimeoutEndingTest}, run inside a network namespace where the test
 * then drops every segment towards the peers: tcpscope connections, each with TCP_USER_TIMEOUT
 * set through the public option ({@link TcpOptions#TCP_USER_TIMEOUT}, read back with the option
 * number of the C headers), a reader and a writer, whose peer (a plain JDK socket in this process) stops
 * acknowledging. The kernel then ends each connection with ETIMEDOUT, told once, to whichever
 * call asks first; later recv calls return 0.
 *
 * <p>Protocol. Arguments: the option number of TCP_USER_TIMEOUT, the timeout in milliseconds,
 * the number of connections. It prints {@code READY <port>} (the peers' port) and waits for a
 * line on stdin, meanwhile the test installs the drop rule. Then, for each connection, on
 * virtual threads for even ones and platform threads for odd ones, a writer writes 1 MiB (it
 * parks once the small send buffer is full: nothing is acknowledged) and a reader reads three
 * times; it prints {@code CONNECTION <i> <kind> writer=<outcome> reads=<r1> ;; <r2> ;; <r3>}, each
 * outcome being {@code -1}, {@code <n> bytes} or the exception with its causes, and then
 * {@code DONE}.
 */
public final class UserTimeoutChild {

    private static final Duration GUARD = Duration.ofSeconds(30);

    private UserTimeoutChild() {}

    /** Runs the connections; see the class comment for the arguments and the protocol. */
    public static void main(String[] args) throws Exception {
        int option = Integer.parseInt(args[0]);
        int timeoutMillis = Integer.parseInt(args[1]);
        int count = Integer.parseInt(args[2]);
        List<TcpConnection> connections = new ArrayList<>();
        List<Socket> peers = new ArrayList<>();
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
            for (int i = 0; i < count; i++) {
                TcpConnection connection = TcpConnection.connect(address, GUARD);
                connections.add(connection);
                // The public options; the read-back uses the option number from the C headers, not ours.
                connection.setOption(StandardSocketOptions.SO_SNDBUF, 4096);
                connection.setOption(TcpOptions.TCP_USER_TIMEOUT, Duration.ofMillis(timeoutMillis));
                SocketOptions options = SocketOptionsOf.socket(connection).options();
                int readBack = options.getInt(SocketOptions.IPPROTO_TCP, option);
                if (readBack != timeoutMillis) {
                    throw new IllegalStateException("option " + option + " reads back as " + readBack + ", not "
                            + timeoutMillis + ": not TCP_USER_TIMEOUT?");
                }
                peers.add(server.accept());
            }
            System.out.println("READY " + server.getLocalPort());
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();

            List<CompletableFuture<String>> readers = new ArrayList<>();
            List<CompletableFuture<String>> writers = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                TcpConnection connection = connections.get(i);
                Thread.Builder threads = threads(i);
                writers.add(start(threads, () -> {
                    try {
                        connection.write(new byte[1 << 20]);
                        return "returned";
                    } catch (IOException e) {
                        return describe(e);
                    }
                }));
                readers.add(start(threads, () -> readThreeTimes(connection)));
            }
            for (int i = 0; i < count; i++) {
                String writer = writers.get(i).get(GUARD.toMillis(), TimeUnit.MILLISECONDS);
                String reads = readers.get(i).get(GUARD.toMillis(), TimeUnit.MILLISECONDS);
                System.out.println("CONNECTION " + i + " " + (i % 2 == 0 ? "VIRTUAL" : "PLATFORM") + " writer=" + writer
                        + " reads=" + reads);
            }
        } finally {
            connections.forEach(TcpConnection::abort);
            for (Socket peer : peers) {
                peer.close();
            }
        }
        System.out.println("DONE");
    }

    /** Virtual threads for even connections, platform threads for odd ones. */
    private static Thread.Builder threads(int connection) {
        return connection % 2 == 0 ? Thread.ofVirtual() : Thread.ofPlatform().daemon();
    }

    /** Runs {@code body} on a new thread. (No test helpers here: the child has no JUnit.) */
    private static CompletableFuture<String> start(Thread.Builder threads, Callable<String> body) {
        CompletableFuture<String> result = new CompletableFuture<>();
        threads.start(() -> {
            try {
                result.complete(body.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    private static String readThreeTimes(TcpConnection connection) {
        List<String> reads = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try {
                int n = connection.read(new byte[100]);
                reads.add(n < 0 ? "-1" : n + " bytes");
            } catch (IOException e) {
                reads.add(describe(e));
            }
        }
        return String.join(" ;; ", reads);
    }

    /** {@return the exception and its causes, "Class: message <- Class: message ..."} */
    private static String describe(Throwable t) {
        StringBuilder s = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c != t) {
                s.append(" <- ");
            }
            s.append(c.getClass().getSimpleName()).append(": ").append(c.getMessage());
        }
        return s.toString().replace('\n', ' ');
    }
}
