package dev.tcpscope.testing;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.os.SocketAddresses;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.internal.poll.SocketDescriptor;
import dev.tcpscope.internal.socket.Connector;
import dev.tcpscope.internal.socket.NativeListener;
import dev.tcpscope.internal.socket.NativeSocket;
import dev.tcpscope.internal.socket.SocketOptions;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;

/**
 * Real loopback connections through the socket layer, and the small I/O helpers tests need
 * around them. Every blocking helper has a deadline ({@link Await#TIMEOUT}), so a broken layer
 * fails a test instead of hanging it.
 */
public final class Loopback {

    /** 127.0.0.1 */
    public static final InetAddress IPV4 = address(new byte[] {127, 0, 0, 1});
    /** ::1 */
    public static final InetAddress IPV6 = address(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});

    /** Small socket buffers, so that a writer facing a peer that does not read blocks quickly. */
    public static final int SMALL_BUFFER = 4096;

    private Loopback() {}

    private static InetAddress address(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Prepares a listener before bind and listen. */
    @FunctionalInterface
    public interface ListenerPreparation {
        void prepare(NativeListener listener) throws IOException;
    }

    /** {@return a deadline {@link Await#TIMEOUT} from now, for calls that should not block long} */
    public static long deadline() {
        return Deadline.after(Await.TIMEOUT);
    }

    /** {@return a listener on 127.0.0.1, ephemeral port} */
    public static NativeListener listen(Syscalls syscalls, int backlog) throws IOException {
        return listen(syscalls, backlog, l -> {});
    }

    /** {@return a listener on 127.0.0.1, ephemeral port, prepared before bind} */
    public static NativeListener listen(Syscalls syscalls, int backlog, ListenerPreparation preparation)
            throws IOException {
        NativeListener listener = NativeListener.open(syscalls, Poller.shared(), SocketAddresses.AF_INET);
        try {
            preparation.prepare(listener);
            listener.bind(new InetSocketAddress(IPV4, 0));
            listener.listen(backlog);
            return listener;
        } catch (IOException | RuntimeException e) {
            listener.close();
            throw e;
        }
    }

    /** {@return a connector over {@code syscalls} and the shared poller} */
    public static Connector connector(Syscalls syscalls) {
        return new Connector(syscalls, Poller.shared());
    }

    /**
     * A connected pair of layer sockets over 127.0.0.1; the listener that made it is closed.
     * Closing the pair closes both ends (FIN, unless SO_LINGER says otherwise).
     */
    public record Pair(NativeSocket client, NativeSocket server) implements AutoCloseable {

        /** {@return a connected pair, both ends opened with {@code syscalls}} */
        public static Pair open(Syscalls syscalls) throws IOException {
            return open(syscalls, l -> {}, s -> {});
        }

        /**
         * {@return a pair whose server end receives into a small buffer and whose client end sends
         * from a small one: a write of a few hundred KiB from the client parks until the server reads}
         */
        public static Pair withSmallBuffers(Syscalls syscalls) throws IOException {
            return open(syscalls,
                    l -> l.options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_RCVBUF, SMALL_BUFFER),
                    s -> s.options().setInt(SocketOptions.SOL_SOCKET, SocketOptions.SO_SNDBUF, SMALL_BUFFER));
        }

        /**
         * {@return a connected pair}
         *
         * @param listenerPreparation applied before listen; accepted sockets inherit its options
         * @param clientPreparation   applied to the client before connect
         */
        public static Pair open(Syscalls syscalls, ListenerPreparation listenerPreparation,
                                Connector.Preparation clientPreparation) throws IOException {
            NativeListener listener = listen(syscalls, 1, listenerPreparation);
            NativeSocket client = null;
            try {
                client = connector(syscalls).connect(listener.localAddress(), Await.TIMEOUT, null, clientPreparation);
                return new Pair(client, listener.accept(deadline()));
            } catch (IOException | RuntimeException e) {
                if (client != null) {
                    client.close("pair failed", e);
                }
                throw e;
            } finally {
                listener.close();
            }
        }

        @Override
        public void close() {
            client.close("closed by test", null);
            server.close("closed by test", null);
        }
    }

    /**
     * A listener whose accept queue is full: listen(0) and one connection nobody accepts. A
     * further connect to {@link #address()} stays in SYN_SENT (Linux drops the SYN while the
     * accept queue is full), so connect parks until closed, interrupted or its deadline.
     */
    public static final class FullBacklog implements AutoCloseable {
        private final NativeListener listener;
        private final Socket filler;
        private final InetSocketAddress address;

        private FullBacklog(NativeListener listener, Socket filler, InetSocketAddress address) {
            this.listener = listener;
            this.filler = filler;
            this.address = address;
        }

        /** {@return a listener with a full accept queue, made with {@code syscalls}} */
        public static FullBacklog open(Syscalls syscalls) throws IOException {
            NativeListener listener = listen(syscalls, 0);
            Socket filler = new Socket();
            try {
                InetSocketAddress address = listener.localAddress();
                // With backlog 0 exactly one connection completes its handshake; it fills the queue.
                filler.connect(address, (int) Await.TIMEOUT.toMillis());
                return new FullBacklog(listener, filler, address);
            } catch (IOException | RuntimeException e) {
                filler.close();
                listener.close();
                throw e;
            }
        }

        /** {@return where a connect hangs} */
        public InetSocketAddress address() {
            return address;
        }

        @Override
        public void close() throws IOException {
            filler.close();
            listener.close();
        }
    }

    /**
     * A port on 127.0.0.1 where nothing listens, kept so while this is open: the port is bound by
     * a socket that never listens, so no other process can start listening on it meanwhile and
     * a connect to it is refused.
     */
    public static final class ClosedPort implements AutoCloseable {
        private final Socket holder;

        public ClosedPort() throws IOException {
            holder = new Socket();
            holder.bind(new InetSocketAddress(IPV4, 0));
        }

        public int port() {
            return holder.getLocalPort();
        }

        public InetSocketAddress address() {
            return new InetSocketAddress(IPV4, port());
        }

        @Override
        public void close() throws IOException {
            holder.close();
        }
    }

    /**
     * {@return the descriptor number of {@code socket}}, for per-descriptor fault injection and
     * /proc checks. The number may be reused once the socket is closed.
     */
    public static int fd(NativeSocket socket) throws IOException {
        return fd(socket.descriptor());
    }

    /** {@return the descriptor number of {@code listener}} */
    public static int fd(NativeListener listener) throws IOException {
        return fd(listener.descriptor());
    }

    private static int fd(SocketDescriptor descriptor) throws IOException {
        int fd = descriptor.acquire();
        descriptor.release();
        return fd;
    }

    /** Writes all of {@code bytes} (heap segment), with a deadline. */
    public static void write(NativeSocket socket, byte[] bytes) throws IOException {
        socket.write(MemorySegment.ofArray(bytes), deadline());
    }

    /** Reads exactly {@code n} bytes, with a deadline. @throws EOFException at end of stream */
    public static byte[] readExactly(NativeSocket socket, int n) throws IOException {
        byte[] bytes = new byte[n];
        MemorySegment segment = MemorySegment.ofArray(bytes);
        long deadline = deadline();
        int done = 0;
        while (done < n) {
            int r = socket.read(segment.asSlice(done), deadline);
            if (r < 0) {
                throw new EOFException("end of stream after " + done + " of " + n + " bytes");
            }
            done += r;
        }
        return bytes;
    }

    /** Reads until end of stream (-1), with a deadline; returns everything read. */
    public static byte[] readToEnd(NativeSocket socket) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] chunk = new byte[64 * 1024];
        MemorySegment segment = MemorySegment.ofArray(chunk);
        long deadline = deadline();
        for (int r; (r = socket.read(segment, deadline)) >= 0; ) {
            all.write(chunk, 0, r);
        }
        return all.toByteArray();
    }
}
