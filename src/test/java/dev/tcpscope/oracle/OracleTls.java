package dev.tcpscope.oracle;

import dev.tcpscope.examples.SelfSignedTls;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Consumer;

/**
 * The TLS material of the oracle's TLS scenarios: one self-signed certificate for
 * {@code localhost} per test JVM (made by keytool at first use, {@link SelfSignedTls}), its server
 * context (our {@code TcpServer}, or the JDK peer when it listens) and a client context that
 * trusts it (our {@code connectTls}, or the JDK peer when it connects), and engine parameters
 * that pin one protocol version on both ends.
 */
final class OracleTls {

    /** The name our clients check the certificate against (and send as SNI). */
    static final String SERVER_NAME = "localhost";

    private static SSLContext server;
    private static SSLContext client;

    private OracleTls() {}

    static synchronized SSLContext serverContext() {
        load();
        return server;
    }

    static synchronized SSLContext clientContext() {
        load();
        return client;
    }

    /** {@return engine parameters that allow only TLS {@code version} ("1.2" or "1.3")} */
    static Consumer<SSLParameters> only(String version) {
        return p -> p.setProtocols(new String[] {"TLSv" + version});
    }

    private static void load() {
        if (server == null) {
            try {
                SelfSignedTls certificate = SelfSignedTls.create();
                server = certificate.serverContext();
                client = certificate.clientContext();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
