package dev.tcpscope.bench.peers;

import dev.tcpscope.TcpConnection;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * What every TLS benchmark pins, on both ends of tcpscope's connections ({@code SSLEngine}) and of
 * the JDK's ({@code SSLSocket}) alike, so that the two do the same cryptography:
 * <ul>
 *   <li>TLS 1.3 only, cipher suite {@value #CIPHER_SUITE} (the JDK's first choice for TLS 1.3
 *       without configuration), key exchange on {@value #NAMED_GROUP} (ECDHE), and the
 *       certificate of {@link TlsCertificate} (ECDSA P-256, SHA-256);</li>
 *   <li>the client connects to {@value #SERVER_NAME} and checks the certificate against it
 *       (endpoint identification "HTTPS"; an IP literal, so no SNI is sent by either);</li>
 *   <li>TCP_NODELAY on every connection, set by the clients right after the handshake (tcpscope's
 *       {@code connectTls} has no hook before it) and by the servers on each accepted connection.
 *       Without it the client's first write after the handshake (its Finished is the write before)
 *       waits in Nagle's algorithm for the server's delayed ACK: measured here, a 64 B request
 *       then took 43 ms (p50) instead of 0.3-0.9 ms, on tcpscope and the JDK alike;</li>
 *   <li>no session resumption: every handshake is a full one. The benchmarks fork with
 *       {@value #NO_RESUMPTION}, so that the JDK's TLS 1.3 servers (the {@code SSLSocket} one and
 *       the {@code SSLEngine} under tcpscope's {@code TcpServer}) send no NewSessionTicket: without
 *       a ticket a TLS 1.3 client has no pre-shared key to resume with.</li>
 * </ul>
 */
public final class TlsSettings {

    /** The only protocol version enabled. */
    public static final String PROTOCOL = "TLSv1.3";
    /** The only cipher suite enabled. */
    public static final String CIPHER_SUITE = "TLS_AES_256_GCM_SHA384";
    /** The only key-exchange group enabled. */
    public static final String NAMED_GROUP = "x25519";
    /** The name the clients connect to and check the certificate against. */
    public static final String SERVER_NAME = "127.0.0.1";
    /** The clients' connect and handshake timeout. */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** The JVM flag that turns session resumption off (for the benchmarks' {@code @Fork}). */
    public static final String NO_RESUMPTION = "-Djdk.tls.server.newSessionTicketCount=0";

    private TlsSettings() {}

    /** Pins the protocol, the cipher suite and the group (a {@code Consumer<SSLParameters>}). */
    public static void apply(SSLParameters parameters) {
        parameters.setProtocols(new String[] {PROTOCOL});
        parameters.setCipherSuites(new String[] {CIPHER_SUITE});
        parameters.setNamedGroups(new String[] {NAMED_GROUP});
    }

    /**
     * tcpscope's client: {@link TcpConnection#connectTls} to {@code address} by the name
     * {@link #SERVER_NAME} (endpoint identification "HTTPS"), the pinned parameters, handshake
     * completed, then TCP_NODELAY.
     */
    public static TcpConnection connectTcpscope(SSLContext context, InetSocketAddress address) throws IOException {
        TcpConnection connection = TcpConnection.connectTls(address, CONNECT_TIMEOUT, context, SERVER_NAME,
                TlsSettings::apply);
        try {
            connection.noDelay(true);
            return connection;
        } catch (IOException | RuntimeException e) {
            connection.close(); // not finished: aborts
            throw e;
        }
    }

    /**
     * The JDK's client, the same: an {@link SSLSocket} connected to {@code address} by the name
     * {@link #SERVER_NAME}, with endpoint identification and the pinned parameters, its
     * handshake completed ({@code startHandshake()}), then TCP_NODELAY.
     */
    public static SSLSocket connectJdk(SSLContext context, InetSocketAddress address) throws IOException {
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(SERVER_NAME, address.getPort());
        try {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            apply(parameters);
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            socket.setTcpNoDelay(true);
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /**
     * Checks that a connection negotiated what this class pins, so that a variant can never
     * silently measure other cryptography. {@return the session}
     */
    public static SSLSession require(SSLSession session) {
        if (!PROTOCOL.equals(session.getProtocol()) || !CIPHER_SUITE.equals(session.getCipherSuite())) {
            throw new IllegalStateException("negotiated " + session.getProtocol() + " " + session.getCipherSuite()
                    + ", expected " + PROTOCOL + " " + CIPHER_SUITE);
        }
        return session;
    }
}
