package dev.tcpscope.oracle;

import dev.tcpscope.testing.Seen;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;

/**
 * The JDK peer: plain JDK NIO, one platform thread per connection running a selector loop that
 * interleaves reads and writes ({@link JdkPeerLoop}), the same plan as the Python peer. One thread per socket means the
 * first call that reports a reset is the one that counts: when a write takes the reset (and a
 * later read returns -1), the write's report is kept.
 *
 * <p>The JDK gives no errno: a write's reset is told apart by the message ("Broken pipe": the reset
 * came after our FIN, which the peer then reads as the end it is; "Connection reset": before it),
 * and a read's by {@link Seen.End#of}, as the other suites do.
 *
 * <p>A plan with a TLS version makes it the TLS peer of the oracle's TLS scenarios: the same loop
 * over a {@link TlsPeerWire} (the JDK's SSLEngine on this same channel), which counts plaintext and
 * reports the TLS-level ending: {@code close_notify} then FIN is the clean end (EOF); a FIN without
 * {@code close_notify} is {@link PeerReport.Seen#TRUNCATED}; a RST after a {@code close_notify} is
 * {@link PeerReport.Seen#CLOSE_NOTIFY_THEN_RST}.
 */
final class JdkPeerDriver implements PeerDriver {

    @Override
    public PeerSession listen(String id, PeerPlan plan) throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        try {
            if (plan.receiveBuffer() > 0) {
                listener.setOption(StandardSocketOptions.SO_RCVBUF, plan.receiveBuffer()); // inherited when accepted
            }
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
        } catch (IOException | RuntimeException e) {
            listener.close();
            throw e;
        }
        JdkPeerLoop loop = new JdkPeerLoop(id, plan, listener, -1);
        loop.start();
        return loop;
    }

    @Override
    public PeerSession connect(String id, int port, PeerPlan plan) {
        JdkPeerLoop loop = new JdkPeerLoop(id, plan, null, port);
        loop.start();
        return loop;
    }

    @Override
    public void close() {
        // nothing shared: each loop ends with its connection
    }
}
