package dev.tcpscope.bench.peers;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * Netty's side of the ping-pong, on either native transport ({@link NettyTransport}): the round
 * trips run inside the client's event loop (the reply's read triggers the next write), the way a
 * Netty program would do it, and a batch completes a future. One hand-off from the calling thread
 * per batch is all that is not Netty's own path.
 */
public final class NettyPingPongClient implements AutoCloseable {

    private final EventLoopGroup group;
    private final Channel channel;
    private final Handler handler;

    private NettyPingPongClient(EventLoopGroup group, Channel channel, Handler handler) {
        this.group = group;
        this.channel = channel;
        this.handler = handler;
    }

    /** Connects over {@code transport} with one event loop. */
    public static NettyPingPongClient connect(NettyTransport transport, InetSocketAddress server, int messageSize)
            throws InterruptedException {
        transport.requireAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, transport.newHandlerFactory());
        Handler handler = new Handler(messageSize);
        Channel channel = new Bootstrap()
                .group(group)
                .channel(transport.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(handler)
                .connect(server).sync().channel();
        return new NettyPingPongClient(group, channel, handler);
    }

    /** Runs {@code count} round trips in the event loop and waits for the last reply. */
    public int roundTrips(int count) {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        channel.eventLoop().execute(() -> handler.start(channel, count, done));
        return done.join();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        handler.message.release();
    }

    /** Event-loop state only: touched by the event loop thread alone. */
    private static final class Handler extends ChannelInboundHandlerAdapter {
        final ByteBuf message;
        private final int size;
        private int remaining;
        private int received;
        private CompletableFuture<Integer> done;

        Handler(int size) {
            this.size = size;
            this.message = Unpooled.directBuffer(size).writeZero(size);
        }

        void start(Channel channel, int count, CompletableFuture<Integer> future) {
            done = future;
            remaining = count;
            received = 0;
            channel.writeAndFlush(message.retainedDuplicate());
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf bytes = (ByteBuf) msg;
            received += bytes.readableBytes();
            bytes.release();
            if (received < size) {
                return;
            }
            if (received > size) {
                done.completeExceptionally(new IllegalStateException("echo longer than the message: " + received));
                return;
            }
            received = 0;
            if (--remaining == 0) {
                done.complete(size);
            } else {
                ctx.writeAndFlush(message.retainedDuplicate());
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (done != null) {
                done.completeExceptionally(cause);
            }
            ctx.close();
        }
    }
}
