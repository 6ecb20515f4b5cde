package dev.tcpscope.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Child JVM: the clients of the many-connections test, with plain JDK NIO (a blocking
 * {@link SocketChannel} per virtual thread).
 *
 * <p>Protocol over stdin/stdout: args {@code port count}. Opens {@code count} connections to the
 * loopback {@code port} and prints {@code CONNECTED ok=N failed=M} once every connect has
 * returned; then waits for a {@code GO} line; then each connection sends {@code request <i>\n},
 * reads until EOF, checks it got exactly {@link #response(int)}, and closes. Finally prints
 * {@code DONE ok=N bad=M first=<first problem>} and exits.
 */
public final class ManyClientsMain {

    private ManyClientsMain() {}

    /** {@return what the server answers to connection {@code i}} */
    public static String response(int i) {
        return "response " + i + " " + "x".repeat(i % 97) + "\n";
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int count = Integer.parseInt(args[1]);
        InetSocketAddress server = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);

        CountDownLatch connected = new CountDownLatch(count);
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(count);
        AtomicInteger connectFailures = new AtomicInteger();
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger bad = new AtomicInteger();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        Semaphore connecting = new Semaphore(256); // keeps the handshakes within the listen backlog's pace

        for (int i = 0; i < count; i++) {
            int id = i;
            Thread.ofVirtual().start(() -> {
                SocketChannel channel = null;
                try {
                    connecting.acquire();
                    try {
                        channel = SocketChannel.open(server);
                    } finally {
                        connecting.release();
                    }
                } catch (IOException | InterruptedException e) {
                    connectFailures.incrementAndGet();
                    problems.add("connect " + id + ": " + e);
                }
                connected.countDown();
                try {
                    go.await();
                    if (channel == null) {
                        bad.incrementAndGet();
                        return;
                    }
                    try (SocketChannel c = channel) {
                        c.write(ByteBuffer.wrap(("request " + id + "\n").getBytes(StandardCharsets.UTF_8)));
                        ByteBuffer in = ByteBuffer.allocate(256);
                        while (c.read(in) >= 0) {
                            if (!in.hasRemaining()) {
                                throw new IOException("response too long");
                            }
                        }
                        String got = new String(in.array(), 0, in.position(), StandardCharsets.UTF_8);
                        if (got.equals(response(id))) {
                            ok.incrementAndGet();
                        } else {
                            bad.incrementAndGet();
                            problems.add("connection " + id + " got \"" + got + "\"");
                        }
                    }
                } catch (IOException | InterruptedException e) {
                    bad.incrementAndGet();
                    problems.add("connection " + id + ": " + e);
                } finally {
                    done.countDown();
                }
            });
        }

        connected.await();
        System.out.println("CONNECTED ok=" + (count - connectFailures.get()) + " failed=" + connectFailures.get()
                + " first=" + problems.peek());
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = stdin.readLine()) != null && !line.equals("GO"); ) {
            // wait for GO
        }
        go.countDown();
        done.await();
        System.out.println("DONE ok=" + ok.get() + " bad=" + bad.get() + " first=" + problems.peek());
    }
}
