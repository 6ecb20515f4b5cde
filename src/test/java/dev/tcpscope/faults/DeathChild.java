package dev.tcpscope.faults;

import dev.tcpscope.SocketOptionsOf;
import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpScope;
import dev.tcpscope.internal.socket.SocketOptions;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * The child JVM of {@link ProcessDeathFaultRow}: holds connections, each owned by its own
 * {@link TcpScope} whose subtask writes without end (the peer does not read, so each writer is
 * soon parked mid-write with bytes queued), then dies as told.
 *
 * <p>Arguments: {@code PORT COUNT MODE [clear-linger]}; MODE is {@code kill} (wait to be
 * SIGKILLed), {@code exit} ({@code System.exit(3)}) or {@code halt} ({@code Runtime.halt(4)}) once
 * a line arrives on stdin. {@code clear-linger} breaks the guarantee on purpose: SO_LINGER is
 * cleared on every connection, so the kernel ends them with FIN after the queued bytes. Prints
 * {@code READY} once every writer has written its first chunk.
 */
public final class DeathChild {

    static final int EXIT_STATUS = 3;
    static final int HALT_STATUS = 4;
    private static final int CHUNK = 4096;

    private DeathChild() {}

    /** See the class comment. */
    public static void main(String[] args) throws Exception {
        InetSocketAddress peer = new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(args[0]));
        int count = Integer.parseInt(args[1]);
        String mode = args[2];
        boolean clearLinger = args.length > 3 && args[3].equals("clear-linger");
        CountDownLatch written = new CountDownLatch(count);
        for (int i = 0; i < count; i++) {
            Thread.ofVirtual().start(() -> {
                try (var scope = TcpScope.open()) {
                    TcpConnection connection = scope.connect(peer, Duration.ofSeconds(30));
                    if (clearLinger) {
                        SocketOptionsOf.connection(connection).setLinger(SocketOptions.Linger.OFF);
                    }
                    scope.fork(() -> {
                        byte[] chunk = new byte[CHUNK];
                        connection.write(chunk);
                        written.countDown();
                        while (true) {
                            connection.write(chunk); // parks once the peer's window and our buffer are full
                        }
                    });
                    scope.join();
                } catch (Exception e) {
                    e.printStackTrace();
                    System.out.println("FAILED " + e);
                }
            });
        }
        written.await();
        System.out.println("READY");
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        switch (mode) {
            case "exit" -> System.exit(EXIT_STATUS);
            case "halt" -> Runtime.getRuntime().halt(HALT_STATUS);
            default -> Thread.currentThread().join(); // until SIGKILLed
        }
    }
}
