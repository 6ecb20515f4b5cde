package dev.tcpscope.internal.poll;

import dev.tcpscope.FinishResult;
import dev.tcpscope.TcpConnection;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;

/**
 * A program that makes one connection with tcpscope and returns from {@code main} (or makes it
 * during the exit), run in a child JVM by {@link ExitQuiescenceTest}: its own shutdown hook, which runs beside tcpscope's while the
 * JVM exits, waits (up to 20 s) for the poller's platform thread to be parked by its loop, and
 * prints {@code POLLER PARKED AT EXIT} or what it saw instead.
 */
public final class ExitingProgramMain {

    private ExitingProgramMain() {}

    /**
     * Connects to a JDK listener of its own, exchanges a byte, ends gracefully, then exits; with
     * {@code in-hook}, makes that first connection in a shutdown hook of its own instead, while
     * the JVM is already exiting (too late for tcpscope to register its hook).
     */
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("in-hook")) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    connectOnce();
                } catch (Exception e) {
                    System.out.println("FAILED " + e);
                    return;
                }
                watch(pollerThread());
            }));
            System.out.println("READY");
            return;
        }
        connectOnce();
        Thread poller = pollerThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> watch(poller)));
        System.out.println("CONNECTED");
    }

    private static Thread pollerThread() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("tcpscope-poller")).findFirst()
                .orElseThrow(() -> new AssertionError("no tcpscope-poller thread"));
    }

    private static void connectOnce() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread peer = Thread.ofPlatform().start(() -> {
                try (Socket s = listener.accept()) {
                    s.getOutputStream().write(s.getInputStream().read());
                    while (s.getInputStream().read() >= 0) {
                        // to the client's FIN
                    }
                } catch (Exception e) {
                    e.printStackTrace();
                }
            });
            try (TcpConnection connection = TcpConnection.connect(
                    new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort()))) {
                connection.write(new byte[] {42});
                if (connection.read(new byte[1]) != 1) {
                    throw new AssertionError("no echo");
                }
                FinishResult result = connection.finish();
                if (!result.delivered()) {
                    throw new AssertionError("not delivered: " + result);
                }
            }
            peer.join();
        }
    }

    private static void watch(Thread poller) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!parkedByItsLoop(poller)) {
            if (System.nanoTime() - deadline > 0) {
                System.out.println("POLLER STILL " + poller.getState() + " " + java.util.Arrays.toString(poller.getStackTrace()));
                return;
            }
            Thread.onSpinWait();
        }
        System.out.println("POLLER PARKED AT EXIT");
    }

    /** The same test as ExitQuiescenceTest's: parked by the polling loop itself. */
    static boolean parkedByItsLoop(Thread thread) {
        if (thread.getState() != Thread.State.WAITING) {
            return false;
        }
        StackTraceElement[] stack = thread.getStackTrace();
        for (int i = 1; i < stack.length; i++) {
            if (stack[i].getMethodName().equals("platformLoop")) {
                return stack[i - 1].getClassName().equals("java.util.concurrent.locks.LockSupport")
                        && stack[i - 1].getMethodName().equals("park");
            }
        }
        return false;
    }
}
