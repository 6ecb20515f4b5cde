package dev.tcpscope.examples;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.ConnectionEnding;
import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;
import dev.tcpscope.TcpScope;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A TCP relay (client &lt;-&gt; relay &lt;-&gt; upstream) that carries endings end to end: a clean end
 * on one side arrives as a clean end on the other, and so does a failure.
 *
 * {@snippet :
 * try (Relay relay = Relay.start(new InetSocketAddress(8080), new InetSocketAddress("backend", 80))) {
 *     // clients connect to relay.port() and talk to the backend
 * }
 * }
 *
 * <p>Each client gets one {@link TcpScope}, owned by a virtual thread of its own, with two
 * connections (the accepted client, adopted, and the upstream it connects) and two subtasks, one
 * moving bytes each way with {@link TcpConnection#transferTo} (splice(2) on Linux: the payload
 * never passes through Java memory):
 * <table class="striped">
 *   <caption>How endings travel through the relay</caption>
 *   <thead><tr><th>One side does</th><th>The relay</th><th>The other side sees</th></tr></thead>
 *   <tbody>
 *   <tr><td>FIN after its last byte</td>
 *       <td>writes every byte, then {@link TcpConnection#shutdownOutput()} (a half-close); once both
 *           directions have ended so, {@code join()} returns and {@code finish()} ends both
 *           connections gracefully</td>
 *       <td>every byte, then FIN</td></tr>
 *   <tr><td>RST</td>
 *       <td>its read throws {@link dev.tcpscope.ConnectionResetException}: the subtask fails and the
 *           scope aborts both connections</td>
 *       <td>RST</td></tr>
 *   <tr><td>(the relay fails: upstream refused, a write fails, the relay is closed)</td>
 *       <td>{@code finish()} is never reached: closing the scope aborts both connections</td>
 *       <td>RST, on both sides</td></tr>
 *   </tbody>
 * </table>
 * Half-closes are forwarded in both directions, so an HTTP/1.0 client that half-closes its
 * request still gets the whole response. Most proxies turn a reset into a clean FIN, and a
 * client then takes a truncated response for a complete one; this relay never does.
 *
 * <p>A session lasts until both directions have ended (or one failed): like a plain TCP
 * connection, it has no idle timeout.
 */
public final class Relay implements AutoCloseable {

    /**
     * How one client's session ended, as the relay saw it.
     *
     * @param client   the client's address
     * @param failure  why the session failed (both peers then got RST), or {@code null} if both
     *                 directions ended cleanly
     * @param endings  how each connection ended: the client's first, then the upstream's (absent
     *                 if it was never connected)
     */
    public record Session(SocketAddress client, Throwable failure, Map<TcpConnection, ConnectionEnding> endings) {

        /** {@return whether both directions ended cleanly and both connections were finished} */
        public boolean succeeded() {
            return failure == null;
        }
    }

    private static final System.Logger LOG = System.getLogger(Relay.class.getName());

    private final TcpListener listener;
    private final InetSocketAddress upstream;
    private final Consumer<Session> onSessionEnd;
    private final Set<Thread> sessions = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;

    private Relay(TcpListener listener, InetSocketAddress upstream, Consumer<Session> onSessionEnd) {
        this.listener = listener;
        this.upstream = upstream;
        this.onSessionEnd = onSessionEnd;
        this.acceptor = Thread.ofVirtual().name("relay-acceptor").unstarted(this::acceptLoop);
    }

    /**
     * Starts relaying: listens on {@code listen} (port 0 picks a free port) and connects every
     * client to {@code upstream}. Sessions are logged.
     */
    public static Relay start(InetSocketAddress listen, InetSocketAddress upstream) throws IOException {
        return start(listen, upstream, Relay::log);
    }

    /**
     * Starts relaying, telling {@code onSessionEnd} how each session ended (it runs on the
     * session's thread, after both connections have ended).
     */
    public static Relay start(InetSocketAddress listen, InetSocketAddress upstream, Consumer<Session> onSessionEnd)
            throws IOException {
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(onSessionEnd, "onSessionEnd");
        Relay relay = new Relay(TcpListener.bind(listen), upstream, onSessionEnd);
        relay.acceptor.start();
        return relay;
    }

    /** {@return the address the relay listens on, with the real port after binding port 0} */
    public InetSocketAddress address() {
        try {
            return listener.localAddress();
        } catch (IOException e) {
            throw new IllegalStateException("the relay's listener is closed", e);
        }
    }

    /** {@return the port the relay listens on} */
    public int port() {
        return address().getPort();
    }

    /**
     * Stops the relay: stops accepting, then aborts every session still in progress (both of its
     * peers get RST: the relay did not carry their exchange to its end) and waits until all
     * sessions have ended.
     */
    @Override
    public void close() {
        listener.close();                 // the acceptor wakes and returns: no new sessions
        joinUninterruptibly(acceptor);
        // A scope whose owner is interrupted in join() aborts its connections.
        sessions.forEach(Thread::interrupt);
        sessions.forEach(Relay::joinUninterruptibly);
    }

    // ---------------------------------------------------------------- the relay proper

    private void acceptLoop() {
        while (true) {
            TcpConnection client;
            try {
                client = listener.accept();
            } catch (ConnectionClosedException e) {
                return;                   // close() closed the listener
            } catch (IOException e) {
                // E.g. out of descriptors: the listener is still usable. (TcpServer backs off
                // before trying again; this example keeps the loop short.)
                LOG.log(System.Logger.Level.WARNING, "accept failed; still listening", e);
                continue;
            }
            Thread session = Thread.ofVirtual().name("relay " + client.remoteAddress()).unstarted(() -> {
                try {
                    relay(client);
                } finally {
                    sessions.remove(Thread.currentThread());
                }
            });
            sessions.add(session);
            session.start();
        }
    }

    /** One session: the client and the upstream in one scope, one subtask per direction. */
    private void relay(TcpConnection client) {
        TcpScope<Object, Void> scope = TcpScope.open();
        Throwable failure = null;
        try (scope) {
            scope.adopt(client);                             // from now on the scope's outcome decides
            TcpConnection server = scope.connect(upstream);  // refused? the client gets RST
            scope.fork(() -> pump(client, server));          // the request, then the client's FIN
            scope.fork(() -> pump(server, client));          // the response, then the upstream's FIN
            scope.join();                                    // a reset or failure either way throws
            scope.finish();                                  // both directions ended cleanly: FIN to both
        } catch (Exception e) {
            // Failed, interrupted by close(), upstream unreachable, or not delivered: whatever
            // it was, the scope has aborted both connections.
            failure = e;
        }
        // Here both connections have ended: finished if the scope succeeded, aborted otherwise.
        onSessionEnd.accept(new Session(client.remoteAddress(), failure, scope.endings()));
    }

    /**
     * Moves {@code from}'s bytes to {@code to} until {@code from} ends cleanly, then passes its FIN on.
     *
     * <p>{@link TcpConnection#transferTo} does the moving: on Linux's native transport with
     * splice(2) through a pipe, so the payload never enters Java memory; elsewhere with a copy
     * loop. It returns only at {@code from}'s FIN, once every byte is in {@code to}'s send buffer.
     * A reset of {@code from} (also one another call took first) or a failure writing to
     * {@code to} throws: the subtask fails and the scope aborts both connections, so that each
     * peer gets RST.
     */
    private static Void pump(TcpConnection from, TcpConnection to) throws IOException {
        from.transferTo(to);
        // transferTo returned: `from` sent FIN (a reset would have thrown), and everything it sent
        // has been written to `to`. Passing the FIN on is a half-close: `to` can still send the
        // other way, which is what an HTTP/1.0 client that half-closes its request relies on.
        // A FIN cannot be taken back (a RST after it reads as an ordinary end), so it is sent
        // only here, on this clean path: never in a finally block or on an error path, where it
        // would make a reset or a failure look like a complete stream.
        to.shutdownOutput();
        return null;
    }

    private static void log(Session session) {
        if (session.succeeded()) {
            LOG.log(System.Logger.Level.DEBUG, () -> "relayed " + session.client() + ": " + session.endings().values());
        } else {
            LOG.log(System.Logger.Level.INFO, () -> "relay of " + session.client() + " failed, both peers reset",
                    session.failure());
        }
    }

    private static void joinUninterruptibly(Thread thread) {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
