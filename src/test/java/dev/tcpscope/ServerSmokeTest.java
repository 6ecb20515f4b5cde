package dev.tcpscope;

import org.junit.jupiter.api.Test;
import java.io.*;
import java.net.*;
import static org.junit.jupiter.api.Assertions.*;

class ServerSmokeTest {
    @Test
    void endings() throws Exception {
        TcpServer server = TcpServer.builder(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).drainPeriod(java.time.Duration.ofSeconds(1)).bind();
        Thread t = Thread.ofVirtual().start(() -> server.serve((conn, scope) -> {
            byte[] b = new byte[1];
            conn.read(b);
            conn.write("hello".getBytes());
            if (b[0] == 'x') throw new IllegalStateException("boom");
        }));
        int port = server.localAddress().getPort();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.getOutputStream().write('o');
            assertEquals("hello", new String(s.getInputStream().readAllBytes()));
        }
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.getOutputStream().write('x');
            InputStream in = s.getInputStream();
            byte[] buf = new byte[5];
            assertThrows(SocketException.class, () -> { int n; while ((n = in.read(buf)) >= 0) {} });
        }
        server.close();
        t.join();
        System.out.println(server.stats());
        assertEquals(1, server.stats().graceful());
        assertEquals(1, server.stats().aborted());
    }
}
