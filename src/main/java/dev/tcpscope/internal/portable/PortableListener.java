package dev.tcpscope.internal.portable;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.transport.ListeningSocket;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A listening {@link ServerSocketChannel} (blocking) whose accepted channels abort by default.
 *
 * <p><b>The window.</b> The native transport sets SO_LINGER {1, 0} on the listening socket and
 * accepted sockets inherit it from the kernel. {@code ServerSocketChannel} rejects SO_LINGER
 * (JDK 25: {@code UnsupportedOperationException}), so here it is set on each accepted channel
 * right after accept returns. Between the kernel completing the handshake and that call, an
 * accepted connection has the default linger: if the process dies in that window (a few
 * microseconds after accept, or while the connection waits in the backlog), the peer sees FIN
 * instead of RST — before a single byte was sent to it.
 *
 * <p>Timed accepts go through the channel's socket adaptor (SO_TIMEOUT). An interrupt of a
 * thread blocked in accept closes the listener (the JDK's {@code InterruptibleChannel} rule; the
 * native listener stays open); the thread gets {@link InterruptedIOException}.
 */
final class PortableListener implements ListeningSocket {

    private final ServerSocketChannel channel;
    private final ServerSocket adaptor;
    private final ReentrantLock acceptLock = new ReentrantLock();
    private final InetSocketAddress local;

    PortableListener(ServerSocketChannel channel) throws IOException {
        this.channel = channel;
        this.adaptor = channel.socket();
        this.local = (InetSocketAddress) channel.getLocalAddress();
    }

    @Override
    public PortableSocket accept(long deadline) throws IOException {
        Deadline.lock(acceptLock, deadline, "accept");
        try {
            if (!channel.isOpen()) {
                throw new ConnectionClosedException("accept: listener closed", null);
            }
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedIOException("accept interrupted"); // before the channel closes itself
            }
            SocketChannel accepted;
            try {
                if (deadline == Deadline.NONE) {
                    adaptor.setSoTimeout(0);
                } else {
                    long nanos = Deadline.remainingNanos(deadline);
                    adaptor.setSoTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, (nanos + 999_999) / 1_000_000)));
                }
                accepted = adaptor.accept().getChannel();
            } catch (SocketTimeoutException e) {
                throw e;
            } catch (ClosedByInterruptException e) {
                Thread.currentThread().interrupt();
                InterruptedIOException interrupted = new InterruptedIOException("accept interrupted (the listener is closed)");
                interrupted.initCause(e);
                throw interrupted;
            } catch (ClosedChannelException e) {
                throw new ConnectionClosedException("accept: listener closed", e);
            } catch (java.net.SocketException e) {
                if (!channel.isOpen()) { // the adaptor says "Socket is closed" for a listener closed meanwhile
                    throw new ConnectionClosedException("accept: listener closed", e);
                }
                throw ChannelFailures.descriptorExhaustion("accept", e);
            } catch (IOException e) {
                // Out of descriptors comes as a plain IOException; typed as on native, the
                // listener stays usable and a server backs off.
                throw ChannelFailures.descriptorExhaustion("accept", e);
            }
            try {
                accepted.setOption(StandardSocketOptions.SO_LINGER, 0); // abort by default, as soon as the JDK allows
            } catch (IOException | RuntimeException | Error e) {
                accepted.close();
                throw e;
            }
            return new PortableSocket(accepted);
        } finally {
            acceptLock.unlock();
        }
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    @Override
    public boolean close() {
        boolean open = channel.isOpen();
        try {
            channel.close();
        } catch (IOException ignored) {
            // released either way
        }
        return open;
    }
}
