package dev.tcpscope.faults;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.LongAdder;

/**
 * The client of {@link SoakFaultRow}, in its own JVM and with plain JDK sockets (no tcpscope):
 * HTTP/1.0 requests to the example server, {@code CONCURRENCY} at a time on virtual threads;
 * request {@code i} asks for {@code /fail} when {@code i % FAIL_EVERY == FAIL_EVERY - 1}, else for
 * {@code /ok}. Each response is read to its end and classified: {@code ok FIN complete} (the exact
 * page, then EOF), {@code ok FIN truncated}, {@code ok RST}, {@code fail RST}, {@code fail FIN},
 * or an error. Arguments: {@code PORT TOTAL CONCURRENCY FAIL_EVERY}. Prints {@code RESULT
 * <seconds> <outcome>=<count>;...}.
 */
public final class SoakClient {

    /** The exact response to {@code /ok} (HttpExampleServer). */
    static final byte[] OK_PAGE = okPage();

    private static final boolean BREAK = Boolean.getBoolean("faults.break");

    private SoakClient() {}

    /** See the class comment. */
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int total = Integer.parseInt(args[1]);
        int concurrency = Integer.parseInt(args[2]);
        int failEvery = Integer.parseInt(args[3]);
        InetSocketAddress server = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
        Semaphore permits = new Semaphore(concurrency);
        long start = System.nanoTime();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < total; i++) {
                boolean fail = i % failEvery == failEvery - 1;
                // -Dfaults.break=true: every 100th /ok asks for a missing page (a 404, then FIN) instead.
                String path = fail ? "fail" : BREAK && i % 100 == 0 ? "missing" : "ok";
                permits.acquire();
                threads.submit(() -> {
                    try {
                        outcomes.computeIfAbsent(request(server, path, fail), k -> new LongAdder()).increment();
                    } finally {
                        permits.release();
                    }
                });
            }
        }
        TreeMap<String, Long> counts = new TreeMap<>();
        outcomes.forEach((k, v) -> counts.put(k, v.sum()));
        StringBuilder line = new StringBuilder(String.format("RESULT %.1f ", (System.nanoTime() - start) / 1e9));
        counts.forEach((k, v) -> line.append(k).append('=').append(v).append(';'));
        System.out.println(line);
    }

    private static String request(InetSocketAddress server, String path, boolean fail) {
        String kind = fail ? "fail" : "ok";
        try (Socket socket = new Socket()) {
            socket.connect(server, 30_000);
            socket.setSoTimeout(60_000);
            socket.getOutputStream().write(("GET /" + path + " HTTP/1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            try {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    body.write(buffer, 0, n);
                }
            } catch (SocketException e) {
                if (String.valueOf(e.getMessage()).contains("Connection reset")) {
                    return kind + " RST";
                }
                throw e;
            }
            return kind + " FIN" + (fail ? "" : Arrays.equals(body.toByteArray(), OK_PAGE) ? " complete" : " truncated");
        } catch (IOException e) {
            return kind + " error " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    private static byte[] okPage() {
        StringBuilder page = new StringBuilder("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
        for (int line = 1; line <= 100; line++) {
            page.append("line ").append(line).append(" of 100\n");
        }
        return page.toString().getBytes(StandardCharsets.US_ASCII);
    }
}
