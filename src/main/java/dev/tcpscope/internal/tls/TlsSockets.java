package dev.tcpscope.internal.tls;

import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.internal.transport.StreamSocket;
import dev.tcpscope.internal.transport.Transports;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Makes {@link TlsSocket}s: a client's, connected and handshaken within one timeout, and a
 * server's around an accepted socket (its handshake runs later, in the handler's thread). Every
 * failure closes the TCP socket (with the engine's alert, if it has one, then RST): nothing leaks.
 */
public final class TlsSockets {

    private static final Pattern IPV4_LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private TlsSockets() {}

    /**
     * Connects to {@code address} and completes the TLS handshake, both within {@code timeout}.
     *
     * @param serverName the name sent as SNI (unless it is an IP literal) and checked against the
     *                   server's certificate (endpoint identification "HTTPS"); null for neither
     *                   (the certificate must still chain to a trusted root)
     * @param configure  may change the engine's parameters (protocols, cipher suites...); may be null
     */
    public static TlsSocket connect(InetSocketAddress address, Duration timeout, SSLContext context, String serverName,
                                    Consumer<SSLParameters> configure) throws IOException {
        long deadline = Deadline.after(timeout);
        SSLEngine engine = serverName == null ? context.createSSLEngine()
                : context.createSSLEngine(serverName, address.getPort());
        engine.setUseClientMode(true);
        SSLParameters parameters = engine.getSSLParameters();
        if (serverName != null) {
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            if (!isIpLiteral(serverName)) {
                parameters.setServerNames(List.of(new SNIHostName(serverName)));
            }
        }
        if (configure != null) {
            configure.accept(parameters);
        }
        engine.setSSLParameters(parameters);
        StreamSocket tcp = Transports.current().connect(address, timeout, null);
        TlsSocket tls;
        try {
            tls = new TlsSocket(tcp, engine);
        } catch (RuntimeException | Error e) {
            tcp.close("aborted: the TLS engine could not be made", e);
            throw e;
        }
        try {
            tls.handshake(deadline);
            return tls;
        } catch (IOException | RuntimeException | Error e) {
            tls.close("aborted: TLS handshake failed: " + e.getMessage(), e);
            throw e;
        }
    }

    /** {@return a server-side TLS socket around {@code tcp}, whose handshake is yet to run} The socket is closed if this fails. */
    public static TlsSocket server(StreamSocket tcp, SSLContext context, Consumer<SSLParameters> configure) {
        try {
            SSLEngine engine = context.createSSLEngine();
            engine.setUseClientMode(false);
            if (configure != null) {
                SSLParameters parameters = engine.getSSLParameters();
                configure.accept(parameters);
                engine.setSSLParameters(parameters);
            }
            return new TlsSocket(tcp, engine);
        } catch (RuntimeException | Error e) {
            tcp.close("aborted: the TLS engine could not be made", e);
            throw e;
        }
    }

    /**
     * {@return the name {@link #connect} checks by default: the address's host string, a name or an
     * IP literal (checked against the certificate's IP addresses; never sent as SNI)}
     */
    public static String defaultServerName(InetSocketAddress address) {
        return address.getHostString();
    }

    private static boolean isIpLiteral(String host) {
        return host.indexOf(':') >= 0 || IPV4_LITERAL.matcher(host).matches();
    }
}
