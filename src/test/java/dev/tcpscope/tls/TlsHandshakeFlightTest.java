package dev.tcpscope.tls;

import dev.tcpscope.internal.socket.NativeListener;
import dev.tcpscope.internal.socket.NativeSocket;
import dev.tcpscope.internal.tls.TlsSocket;
import dev.tcpscope.internal.tls.TlsSockets;
import dev.tcpscope.testing.FaultInjectingSyscalls;
import dev.tcpscope.testing.FaultInjectingSyscalls.Call;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import javax.net.ssl.SSLSocket;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server's TLS 1.3 handshake flight (ServerHello, ChangeCipherSpec, EncryptedExtensions,
 * Certificate, CertificateVerify, Finished: one record per wrap of the JDK's engine) goes out in
 * one write, not one per record. Why it matters: a server socket has Nagle's algorithm on until its
 * handler can set TCP_NODELAY, after the handshake; with one write per record the second record
 * waited for the client's acknowledgement of the first, which a delayed ACK holds up to 40 ms
 * (measured: 1% of a TcpServer's handshakes took 50 ms or more).
 *
 * <p>Counted on the server's own send(2) calls (a JDK {@link SSLSocket} client, which goes
 * through no injected syscalls): the flight, then the NewSessionTicket the JDK's server sends
 * when the client's Finished arrives: two sends. Checked by breaking it on purpose: with a send
 * after every wrap (the code before), the server made 4 sends and the test failed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TlsHandshakeFlightTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    @Test
    void aServersHandshakeFlightIsOneWrite() throws Exception {
        var sys = new FaultInjectingSyscalls();
        NativeListener listener = Loopback.listen(sys, 4);
        try {
            int port = listener.localAddress().getPort();
            Forked<Boolean> client = Forked.start(Forked.Kind.VIRTUAL, "JDK TLS client", () -> {
                try (SSLSocket socket = (SSLSocket) TlsPeers.clientContext().getSocketFactory()
                        .createSocket(Loopback.IPV4, port)) {
                    socket.setEnabledProtocols(new String[] {"TLSv1.3"});
                    socket.startHandshake();
                    socket.getOutputStream().write(1); // the server reads it after its handshake
                    socket.getOutputStream().flush();
                    return socket.getInputStream().read() == 2;
                }
            });
            NativeSocket accepted = listener.accept(Loopback.deadline());
            TlsSocket server = TlsSockets.server(accepted, TlsPeers.serverContext(), TlsPeers.only("1.3"));
            try {
                long sendsBefore = sys.calls(Call.SEND);
                server.handshake(Loopback.deadline());
                byte[] one = new byte[1];
                assertEquals(1, server.read(java.lang.foreign.MemorySegment.ofArray(one), Loopback.deadline()));
                long handshakeSends = sys.calls(Call.SEND) - sendsBefore;
                server.write(java.lang.foreign.MemorySegment.ofArray(new byte[] {2}), Loopback.deadline());
                assertTrue(client.await().assertReturned(), "the client read the server's reply");
                assertEquals(2, handshakeSends, "send(2) calls of the server's handshake: its flight, then the NewSessionTicket");
            } finally {
                server.close("closed by the test", null);
            }
        } finally {
            listener.close();
        }
    }
}
