package dev.tcpscope;

import dev.tcpscope.internal.tls.TlsSockets;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.StructuredTaskScope.Joiner;
import java.util.function.Consumer;

/**
 * A virtual-thread TCP server where each connection's ending follows its handler: the handler
 * returns, and the peer receives every byte and FIN; the handler throws (any {@code Throwable}),
 * exceeds its time limit, goes idle, or is still running when the shutdown drain period ends, and
 * the peer receives RST.
 *
 * {@snippet :
 * try (var server = TcpServer.bind(new InetSocketAddress(8080))) {
 *     server.serve((conn, scope) -> handle(conn, scope));   // blocks until shutdown
 * }
 * }
 *
 * <p>Each accepted connection gets a virtual thread and its own {@link TcpScope}, which the
 * handler can use to fork subtasks; returning normally declares the scope's success (the server
 * joins it if the handler did not, then {@linkplain TcpScope#finish() finishes} it). The handlers
 * run as subtasks of one {@link StructuredTaskScope} owned by the thread that called
 * {@link #serve}, with a policy that keeps one connection's failure from cancelling the others;
 * no handler thread outlives {@code serve()}. A handler's failure is logged once, at WARNING,
 * through {@link System.Logger} {@code dev.tcpscope.TcpServer}.
 *
 * <p><b>Transferred connections.</b> A handler may {@linkplain TcpScope#transfer transfer} its
 * connection to a longer-lived scope of the application (a pool of keep-alive connections,
 * say). The connection then belongs to that scope: the server does not end it when the handler
 * returns, its limits and its shutdown do not touch it, and {@link ServerStats#transferred()}
 * counts it. It keeps its {@code maxConnections} permit until it ends, so that the server's
 * open sockets never exceed the limit unnoticed.
 *
 * <p><b>Limits.</b> At most {@code maxConnections} connections (default 10,000) hold a permit at
 * once; beyond that the server stops accepting until one ends, so new connections wait in the
 * kernel's listen backlog, and once that is full the kernel drops or refuses them. The handler
 * time limit and the idle limit (no bytes in either direction; detected within 1.5 times the
 * limit) are off by default; each ends the connection with RST and interrupts the handler.
 *
 * <p><b>Shutdown</b> ({@link #close()}, {@link #shutdown()}, or interrupting the thread in
 * {@code serve}): accepting stops at once; running handlers get the drain period (default 5 s)
 * to finish; then every remaining connection is aborted and its handler interrupted, and
 * {@code serve()} returns as soon as they have all ended. That last step is prompt for handlers
 * blocked in tcpscope I/O or in interruptible calls; a handler that ignores interrupts while
 * computing, or is blocked in uninterruptible code, delays it, and no server can prevent that in
 * Java. Transferred connections are not aborted: the application's scope owns them and may
 * outlive the server.
 *
 * <p><b>Accept errors</b> do not stop the server: on EMFILE or ENFILE (out of descriptors) it
 * keeps the listener and backs off on a timer (10 ms, doubling up to 1 s) instead of spinning;
 * ECONNABORTED and other errors are counted and the loop goes on. {@link #stats()} shows the
 * counters, and JFR records {@code dev.tcpscope.ConnectionAccepted} and
 * {@code dev.tcpscope.ConnectionEnded} events.
 *
 * <p><b>Java release.</b> This class uses {@link java.util.concurrent.StructuredTaskScope}, a
 * preview API of JDK 25 (JEP 505), so its class file and those of its nested types carry the
 * preview marking (class file version 69.65535): they load only on JDK 25, with
 * {@code --enable-preview}. On JDK 26 or later the first use throws
 * {@link UnsupportedClassVersionError} from the class loader ("... was compiled with preview
 * features that are unsupported ..."), before any tcpscope code runs: this jar's server was
 * compiled against JDK 25's StructuredTaskScope and needs a tcpscope built for the running
 * release. {@link TcpConnection} and {@link TcpListener} carry no marking and work on JDK 25 and
 * any later JDK. See README.md, "Java versions".
 */
public final class TcpServer implements AutoCloseable {

    /** Serves one connection. */
    @FunctionalInterface
    public interface Handler {
        /**
         * Serves {@code connection}, which {@code scope} owns. Returning normally declares
         * success: the scope is joined (if the handler did not) and finished, and the peer
         * receives every byte, then FIN. Throwing aborts it. A connection transferred to another
         * scope is that scope's to end.
         */
        void handle(TcpConnection connection, TcpScope<Object, Void> scope) throws Exception;
    }

    /** Options of a server; every one has a documented default. */
    public static final class Builder {
        private final ServerOptions options;

        private Builder(InetSocketAddress address) {
            this.options = new ServerOptions(address);
        }

        /** Listen backlog (default {@link TcpListener#DEFAULT_BACKLOG}). */
        public Builder backlog(int backlog) {
            options.backlog(backlog);
            return this;
        }

        /** IPV6_V6ONLY for an IPv6 bind address (default false: {@code [::]} also accepts IPv4). */
        public Builder v6Only(boolean v6Only) {
            options.v6Only(v6Only);
            return this;
        }

        /**
         * SO_REUSEPORT (default false): several servers (or listeners), each with this set, may
         * bind the same address and port, and the kernel spreads new connections among them;
         * see {@link TcpListener.Builder#reusePort}.
         */
        public Builder reusePort(boolean reusePort) {
            options.reusePort(reusePort);
            return this;
        }

        /**
         * SO_RCVBUF of the listening socket, which accepted connections inherit (default 0: the
         * system's); see {@link TcpListener.Builder#receiveBufferSize}.
         */
        public Builder receiveBufferSize(int bytes) {
            options.receiveBufferSize(bytes);
            return this;
        }

        /**
         * Most connections holding a permit at once (default 10,000): those being served, and
         * those transferred to another scope that have not ended yet.
         */
        public Builder maxConnections(int maxConnections) {
            options.maxConnections(maxConnections);
            return this;
        }

        /** Longest a handler may run before its connection is reset (default: no limit). */
        public Builder handlerTimeLimit(Duration limit) {
            options.handlerTimeLimit(limit);
            return this;
        }

        /** Longest a connection may carry no bytes either way before it is reset (default: no limit). */
        public Builder idleLimit(Duration limit) {
            options.idleLimit(limit);
            return this;
        }

        /** Deadline of each graceful ending (default {@link TcpConnection#DEFAULT_FINISH_TIMEOUT}). */
        public Builder finishTimeout(Duration timeout) {
            options.finishTimeout(timeout);
            return this;
        }

        /**
         * The quiet period of each graceful ending (default
         * {@link TcpConnection#DEFAULT_FINISH_QUIET_PERIOD}): once a client has acknowledged
         * everything, the server waits for its FIN only while it keeps sending; a client that
         * stays quiet this long is not waited for, so that it does not hold a handler thread and a
         * connection permit until the finish timeout (nginx's {@code lingering_timeout}).
         */
        public Builder finishQuietPeriod(Duration period) {
            options.finishQuietPeriod(period);
            return this;
        }

        /**
         * Serves TLS with {@code context} (its key managers hold the server's certificate): each
         * accepted connection completes its handshake in its handler's thread before the handler
         * runs, within {@link #tlsHandshakeTimeout} and the handler's limits; a failed handshake
         * resets the connection (after the TLS alert, if the engine has one) and the handler never
         * sees it. Handlers then read and write plaintext; returning sends {@code close_notify},
         * then FIN; every failure sends no {@code close_notify}, and RST (README, "TLS").
         */
        public Builder tls(SSLContext context) {
            options.tls(context, null);
            return this;
        }

        /**
         * As {@link #tls(SSLContext)}, with {@code parameters} called on each engine's
         * {@link SSLParameters} (protocols, cipher suites, client authentication...).
         */
        public Builder tls(SSLContext context, Consumer<SSLParameters> parameters) {
            options.tls(context, Objects.requireNonNull(parameters, "parameters"));
            return this;
        }

        /** How long a client may take to complete the TLS handshake before it is reset (default 10 s). */
        public Builder tlsHandshakeTimeout(Duration timeout) {
            options.tlsHandshakeTimeout(timeout);
            return this;
        }

        /** How long running handlers may go on after shutdown begins (default 5 s). */
        public Builder drainPeriod(Duration period) {
            options.drainPeriod(period);
            return this;
        }

        /**
         * Binds and listens; connections queue in the backlog until {@link TcpServer#serve} runs.
         * The server keeps the options as they are now: later changes to this builder (to bind
         * another server) do not reach it.
         */
        public TcpServer bind() throws IOException {
            ServerOptions bound = options.copy();
            TcpListener listener = bound.bindListener();
            if (bound.tls() != null) {
                listener.wrapAccepted(socket -> TlsSockets.server(socket, bound.tls(), bound.tlsParameters()));
            }
            try {
                return new TcpServer(bound, listener);
            } catch (IOException | RuntimeException | Error e) {
                listener.close();
                throw e;
            }
        }
    }

    private final InetSocketAddress localAddress;
    private final ServerLifecycle lifecycle;

    private TcpServer(ServerOptions options, TcpListener listener) throws IOException {
        this.localAddress = listener.localAddress();
        this.lifecycle = new ServerLifecycle(options, listener, localAddress);
    }

    /** Binds to {@code address} with the default options; port 0 picks a free port. */
    public static TcpServer bind(InetSocketAddress address) throws IOException {
        return builder(address).bind();
    }

    /** {@return a builder for a server on {@code address}} */
    public static Builder builder(InetSocketAddress address) {
        return new Builder(address);
    }

    /** {@return the address the server listens on, with the real port after binding port 0} */
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    /** {@return whether shutdown has begun; handlers may ask, to stop early} */
    public boolean isShuttingDown() {
        return lifecycle.isShuttingDown();
    }

    /**
     * Serves connections with {@code handler} on the calling thread until shutdown, then returns
     * once every handler has ended (see the class comment for the bounds). If the calling thread
     * is interrupted, that begins the shutdown; its interrupt status is set again on return.
     *
     * @throws IllegalStateException if the server is already serving, or was shut down
     */
    public void serve(Handler handler) {
        Objects.requireNonNull(handler, "handler");
        lifecycle.serve(() -> acceptAndDrain(handler));
    }

    /** Accepts and starts handlers until shutdown, drains, waits for every handler; {@return whether interrupted} */
    private boolean acceptAndDrain(Handler handler) {
        boolean interrupted;
        try (var handlers = StructuredTaskScope.open(Joiner.awaitAll(),
                cf -> cf.withName("tcpscope-server-" + localAddress.getPort()))) {
            AcceptLoop loop = lifecycle.acceptLoop();
            interrupted = loop.run(connection -> start(handlers, connection, handler));
            lifecycle.beginShutdown();
            interrupted |= drain();
            while (true) {
                try {
                    handlers.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        return interrupted;
    }

    // A step of its own, named as before: ServerShutdownTest recognises the drain period by a
    // frame TcpServer.drain on the serving thread's stack.
    /** Gives running handlers the drain period, then aborts the rest; returns whether interrupted. */
    private boolean drain() {
        return lifecycle.drain();
    }

    /** Starts the handler of an accepted connection, which holds a permit. */
    private void start(StructuredTaskScope<Object, Void> handlers, TcpConnection connection, Handler handler) {
        try {
            handlers.fork(() -> lifecycle.serveConnection(connection, handler)); // SERVING is bound by serve()
        } catch (RuntimeException e) {
            lifecycle.handlerNotStarted(connection, e);
            throw e;
        }
    }

    /**
     * Begins the shutdown and waits until {@link #serve} has returned: accepting stops at once,
     * handlers get the drain period, the rest are aborted (not the connections transferred to
     * other scopes). Safe to call from any thread, more than once, and before {@code serve}.
     * Called by a handler of this server (or a subtask it forked), it only begins the shutdown
     * and returns at once: {@code serve()} waits for that handler, so waiting here would never end.
     */
    public void shutdown() {
        lifecycle.shutdown();
    }

    /** Same as {@link #shutdown()}. */
    @Override
    public void close() {
        shutdown();
    }

    /** {@return a snapshot of the server's counters} */
    public ServerStats stats() {
        return lifecycle.stats();
    }

    @Override
    public String toString() {
        return "TcpServer[" + localAddress + (lifecycle.isShuttingDown() ? ", shutting down" : "") + "]";
    }
}
