package dev.tcpscope.server;

import dev.tcpscope.TcpConnection;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Small handler-side helpers over a {@link TcpConnection}. */
public final class ServerIo {

    private ServerIo() {}

    /**
     * Reads one line (without its '\n'). The peers of these tests send one line and then wait
     * for the answer, so nothing after the newline is lost.
     *
     * @throws EOFException the peer ended before a newline
     */
    public static String readLine(TcpConnection connection) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(64);
        byte[] buffer = new byte[256];
        while (true) {
            int n = connection.read(buffer);
            if (n < 0) {
                throw new EOFException("the peer ended before a newline; got \"" + line + "\"");
            }
            for (int i = 0; i < n; i++) {
                if (buffer[i] == '\n') {
                    line.write(buffer, 0, i);
                    return line.toString(StandardCharsets.UTF_8);
                }
            }
            line.write(buffer, 0, n);
        }
    }

    /** Writes {@code text} as UTF-8. */
    public static void write(TcpConnection connection, String text) throws IOException {
        connection.write(text.getBytes(StandardCharsets.UTF_8));
    }
}
