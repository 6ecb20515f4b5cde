package dev.tcpscope.faults;

import dev.tcpscope.FinishResult;
import dev.tcpscope.TcpConnection;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The tcpscope side of the partition rows, run in a child JVM inside namespace {@code a} of
 * {@link dev.tcpscope.testing.LinkedNamespaces}, connected to the Python peer in namespace
 * {@code b} ({@code partition_peer.py}). The test installs and removes the partition between the
 * steps, which it paces through stdin.
 *
 * <p>Arguments: {@code HOST PORT finish}: one connection; writes {@value #HALF} bytes, prints
 * {@code WROTE}; on a line, writes {@value #HALF} more (queued: the partition is in place) and
 * calls {@code finish(3 s)}, prints {@code FINISHED <delivered> <unacknowledged bytes>
 * <seconds> <peer ending>}.
 *
 * <p>{@code HOST PORT timeouts COUNT MILLIS}: COUNT connections, prints {@code CONNECTED}; on a
 * line, one thread per connection (readers and writers alternating, virtual and platform threads
 * alternating) reads, or writes {@value #BIG} bytes, with a read or write timeout of MILLIS; each
 * prints {@code WOKE <i> <role> <thread kind> <exception> <overrun in ms>}, then {@code DONE}.
 */
public final class PartitionChild {

    static final int HALF = 64 * 1024;
    static final int BIG = 32 << 20;
    static final Duration FINISH_DEADLINE = Duration.ofSeconds(3);

    private PartitionChild() {}

    /** See the class comment. */
    public static void main(String[] args) throws Exception {
        InetSocketAddress peer = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        if (args[2].equals("finish")) {
            try (TcpConnection connection = TcpConnection.connect(peer, Duration.ofSeconds(30))) {
                connection.write(new byte[HALF]);
                System.out.println("WROTE");
                commands.readLine();
                connection.write(new byte[HALF]);
                long start = System.nanoTime();
                FinishResult result = connection.finish(FINISH_DEADLINE);
                System.out.printf("FINISHED %s %d %.3f %s%n", result.delivered(), result.unacknowledgedBytes(),
                        (System.nanoTime() - start) / 1e9, result.peerEnding());
            }
            return;
        }
        int count = Integer.parseInt(args[3]);
        Duration timeout = Duration.ofMillis(Long.parseLong(args[4]));
        List<TcpConnection> connections = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            TcpConnection connection = TcpConnection.connect(peer, Duration.ofSeconds(30));
            connection.readTimeout(timeout);
            connection.writeTimeout(timeout);
            connections.add(connection);
        }
        byte[] big = new byte[BIG]; // shared by the writers (only read), allocated outside the timed window
        System.out.println("CONNECTED");
        commands.readLine();
        CountDownLatch woken = new CountDownLatch(count);
        for (int i = 0; i < count; i++) {
            int index = i;
            boolean reader = i % 2 == 0;
            boolean virtual = i / 2 % 2 == 0;
            TcpConnection connection = connections.get(i);
            (virtual ? Thread.ofVirtual() : Thread.ofPlatform()).start(() -> {
                long start = System.nanoTime();
                String outcome;
                try {
                    if (reader) {
                        outcome = "returned:" + connection.read(new byte[100]);
                    } else {
                        connection.write(big);
                        outcome = "returned";
                    }
                } catch (IOException e) {
                    outcome = e.getClass().getSimpleName();
                }
                long overrun = (System.nanoTime() - start) / 1_000_000 - timeout.toMillis();
                System.out.println("WOKE " + index + " " + (reader ? "read" : "write") + " "
                        + (virtual ? "virtual" : "platform") + " " + outcome + " " + overrun);
                woken.countDown();
            });
        }
        woken.await();
        connections.forEach(TcpConnection::abort);
        System.out.println("DONE");
    }
}
