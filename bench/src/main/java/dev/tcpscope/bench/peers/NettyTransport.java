package dev.tcpscope.bench.peers;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;

import java.util.Optional;
import java.util.function.Supplier;

/**
 * The Netty native transports the Netty peers run on: the same server and client code, only the
 * event loop's I/O handler and the channel classes differ. io_uring needs the io_uring_setup
 * system call, which containers and hardened kernels often refuse (seccomp,
 * {@code kernel.io_uring_disabled}); {@link #unavailability()} says why, and bench/run skips the
 * io_uring variants with that message.
 *
 * <pre>java -cp benchmarks.jar dev.tcpscope.bench.peers.NettyTransport io_uring</pre>
 * exits 0 when the transport works here, else prints why not and exits 1.
 */
public enum NettyTransport {

    EPOLL("epoll", EpollIoHandler::newFactory, EpollSocketChannel.class, EpollServerSocketChannel.class,
            () -> Epoll.isAvailable() ? null : Epoll.unavailabilityCause()),
    IO_URING("io_uring", IoUringIoHandler::newFactory, IoUringSocketChannel.class, IoUringServerSocketChannel.class,
            () -> IoUring.isAvailable() ? null : IoUring.unavailabilityCause());

    private final String label;
    private final Supplier<IoHandlerFactory> handlers;
    private final Class<? extends SocketChannel> socketChannel;
    private final Class<? extends ServerChannel> serverChannel;
    private final Supplier<Throwable> cause;

    NettyTransport(String label, Supplier<IoHandlerFactory> handlers, Class<? extends SocketChannel> socketChannel,
                   Class<? extends ServerChannel> serverChannel, Supplier<Throwable> cause) {
        this.label = label;
        this.handlers = handlers;
        this.socketChannel = socketChannel;
        this.serverChannel = serverChannel;
        this.cause = cause;
    }

    /** {@return the transport named {@code label} ({@code epoll}, {@code io_uring})} */
    public static NettyTransport of(String label) {
        for (NettyTransport t : values()) {
            if (t.label.equals(label)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown Netty transport: " + label);
    }

    /** {@return the transport's name in benchmark parameters: {@code epoll} or {@code io_uring}} */
    public String label() {
        return label;
    }

    IoHandlerFactory newHandlerFactory() {
        return handlers.get();
    }

    Class<? extends SocketChannel> socketChannel() {
        return socketChannel;
    }

    Class<? extends ServerChannel> serverChannel() {
        return serverChannel;
    }

    /** {@return why this transport cannot run here, or empty if it can} */
    public Optional<String> unavailability() {
        Throwable why = cause.get();
        if (why == null) {
            return Optional.empty();
        }
        StringBuilder text = new StringBuilder(String.valueOf(why));
        for (Throwable c = why.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            text.append("; caused by ").append(c);
        }
        return Optional.of(text.toString().replaceAll("\\s+", " "));
    }

    /** Fails with the reason when this transport cannot run here (a benchmark's setup calls it). */
    public void requireAvailable() {
        unavailability().ifPresent(why -> {
            throw new IllegalStateException("Netty " + label + " is not available here: " + why);
        });
    }

    /** Exits 0 if the transport named by {@code args[0]} works here, else prints why and exits 1. */
    public static void main(String[] args) {
        Optional<String> why = of(args[0]).unavailability();
        if (why.isPresent()) {
            System.out.println(why.get());
            System.exit(1);
        }
    }
}
