package dev.tcpscope.oracle;

import dev.tcpscope.TcpListener;
import dev.tcpscope.TcpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The two ends of a scenario and what lies between: the peer (listening, or connecting to us),
 * our listener or server when the peer connects, and the relays in between.
 *
 * <ul>
 *   <li>We connect: the peer listens; relays stand in front of it; the program connects to
 *       {@link #target()}.</li>
 *   <li>The peer connects: the program listens ({@link #listener()}, or {@link #server()} for the
 *       server paths); relays stand in front of it; the peer connects to the last relay.</li>
 * </ul>
 */
final class Wiring implements AutoCloseable {

    private final PeerSession peer;
    private final RelayChain relays;
    private final InetSocketAddress target;
    private final TcpListener listener;
    private final TcpServer server;

    private Wiring(PeerSession peer, RelayChain relays, InetSocketAddress target, TcpListener listener,
                   TcpServer server) {
        this.peer = peer;
        this.relays = relays;
        this.target = target;
        this.listener = listener;
        this.server = server;
    }

    /** Sets up both ends of {@code s}; the peer of scenario {@code id} is {@code driver}'s. */
    static Wiring open(Scenario s, PeerDriver driver, String id) throws IOException {
        PeerPlan plan = PeerPlan.of(s);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        if (s.ourSideConnects()) {
            PeerSession peer = driver.listen(id, plan);
            RelayChain relays = RelayChain.start(new InetSocketAddress(loopback, peer.port()), s.hops());
            return new Wiring(peer, relays, relays.entry(), null, null);
        }
        TcpListener listener = null;
        TcpServer server = null;
        RelayChain relays = null;
        try {
            InetSocketAddress ours;
            if (s.path().layer() == EndingPath.Layer.SERVER) {
                server = ServerPaths.bind(s);
                ours = server.localAddress();
            } else {
                listener = TcpListener.bind(new InetSocketAddress(loopback, 0));
                ours = listener.localAddress();
            }
            relays = RelayChain.start(ours, s.hops());
            PeerSession peer = driver.connect(id, relays.entry().getPort(), plan);
            return new Wiring(peer, relays, null, listener, server);
        } catch (IOException | RuntimeException e) {
            if (relays != null) {
                relays.close();
            }
            if (listener != null) {
                listener.close();
            }
            if (server != null) {
                server.close();
            }
            throw e;
        }
    }

    PeerSession peer() {
        return peer;
    }

    RelayChain relays() {
        return relays;
    }

    /** {@return where the program connects (we connect)} */
    InetSocketAddress target() {
        return target;
    }

    /** {@return where the program accepts (the peer connects, not a server path)} */
    TcpListener listener() {
        return listener;
    }

    /** {@return the server (server paths), bound, not yet serving} */
    TcpServer server() {
        return server;
    }

    @Override
    public void close() {
        relays.close();
        if (listener != null) {
            listener.close();
        }
        if (server != null) {
            server.close();
        }
    }
}
