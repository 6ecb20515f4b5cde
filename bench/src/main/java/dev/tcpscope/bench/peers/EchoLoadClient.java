package dev.tcpscope.bench.peers;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * The load generator of the echo-throughput benchmark, the same for every server under test: one
 * platform thread, one {@link Selector}, N non-blocking connections. A round sends one message on
 * every connection, then waits until every echo is back; the server thus has up to N requests in
 * flight at once. A cheap, constant client keeps the comparison about the servers, though on two
 * shared cores the client's CPU is part of every number.
 */
public final class EchoLoadClient implements AutoCloseable {

    private final Selector selector;
    private final SocketChannel[] channels;
    private final int[] unread;
    private final ByteBuffer message;
    private final ByteBuffer sink = ByteBuffer.allocateDirect(64 * 1024);
    private int pending;

    private EchoLoadClient(Selector selector, SocketChannel[] channels, int messageSize) {
        this.selector = selector;
        this.channels = channels;
        this.unread = new int[channels.length];
        this.message = ByteBuffer.allocateDirect(messageSize);
    }

    /** Opens {@code connections} connections to {@code server} (blocking connects, one after another). */
    public static EchoLoadClient connect(InetSocketAddress server, int connections, int messageSize) throws IOException {
        Selector selector = Selector.open();
        SocketChannel[] channels = new SocketChannel[connections];
        EchoLoadClient client = new EchoLoadClient(selector, channels, messageSize);
        try {
            for (int i = 0; i < connections; i++) {
                SocketChannel channel = SocketChannel.open(server);
                channels[i] = channel;
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                channel.configureBlocking(false);
                channel.register(selector, SelectionKey.OP_READ, i);
            }
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
        return client;
    }

    /** One round: a message out on every connection, every echo back. {@return the messages echoed} */
    public int round() throws IOException {
        int size = message.capacity();
        for (int i = 0; i < channels.length; i++) {
            message.clear();
            channels[i].write(message);
            if (message.hasRemaining()) {
                // 1 KiB into an idle connection's send buffer: never partial unless the server stalls.
                throw new IllegalStateException("send buffer full on connection " + i + ": the server is not reading");
            }
            unread[i] = size;
        }
        pending = channels.length;
        while (pending > 0) {
            selector.select(this::readEcho);
        }
        return channels.length;
    }

    private void readEcho(SelectionKey key) {
        int i = (Integer) key.attachment();
        try {
            sink.clear();
            int n = channels[i].read(sink);
            if (n < 0) {
                throw new EOFException("the server ended connection " + i);
            }
            unread[i] -= n;
            if (unread[i] == 0) {
                pending--;
            } else if (unread[i] < 0) {
                throw new IllegalStateException("connection " + i + " echoed more than it was sent");
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        for (SocketChannel channel : channels) {
            if (channel != null) {
                channel.close();
            }
        }
        selector.close();
    }
}
