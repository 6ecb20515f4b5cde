package dev.tcpscope.tls;

import dev.tcpscope.examples.SelfSignedTls;
import dev.tcpscope.peers.PythonPeer;
import dev.tcpscope.testing.ChildProcess;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * What the TLS tests share: one self-signed certificate per test JVM (made by keytool at first
 * use, {@link SelfSignedTls}), its PEM form for Python (made by {@code openssl pkcs12}), a
 * parameter setter that pins one protocol version, and the Python peer {@code tls_peer.py}
 * (see the script for its lines).
 */
final class TlsPeers {

    /** The two versions every TLS test runs with. */
    static final List<String> VERSIONS = List.of("1.2", "1.3");

    private static SelfSignedTls certificate;
    private static Path pem;
    private static Path script;

    private TlsPeers() {}

    static synchronized SelfSignedTls certificate() {
        if (certificate == null) {
            try {
                certificate = SelfSignedTls.create();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return certificate;
    }

    static SSLContext serverContext() throws IOException {
        return certificate().serverContext();
    }

    static SSLContext clientContext() throws IOException {
        return certificate().clientContext();
    }

    /** {@return engine parameters that allow only TLS {@code version} ("1.2" or "1.3")} */
    static Consumer<SSLParameters> only(String version) {
        return p -> p.setProtocols(new String[] {"TLSv" + version});
    }

    /** {@return the certificate and its key in one PEM file, for Python's load_cert_chain} */
    static synchronized Path pem() throws IOException, InterruptedException {
        if (pem == null) {
            SelfSignedTls c = certificate();
            Path out = c.keystore().resolveSibling("server.pem");
            Process p = new ProcessBuilder("openssl", "pkcs12", "-in", c.keystore().toString(), "-nodes",
                    "-passin", "pass:" + new String(c.password()), "-out", out.toString())
                    .redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0 || !Files.exists(out)) {
                throw new IOException("openssl pkcs12 failed: " + text);
            }
            out.toFile().deleteOnExit();
            pem = out;
        }
        return pem;
    }

    private static synchronized Path script() throws IOException {
        if (script == null) {
            script = PythonPeer.copyOfScript(TlsPeers.class, "tls_peer.py");
        }
        return script;
    }

    /** Starts {@code tls_peer.py client PORT VERSION REQUEST}. */
    static ChildProcess pythonClient(int port, String version, String request) throws IOException {
        return ChildProcess.start("the Python TLS client", List.of("python3", "-u", script().toString(), "client",
                Integer.toString(port), version, request));
    }

    /** Starts {@code tls_peer.py server VERSION PEM MODE N}; {@link ChildProcess#expect} "READY" gives its port. */
    static ChildProcess pythonServer(String version, String mode, int bytes) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("python3", "-u", script().toString(), "server", version,
                pem().toString(), mode, Integer.toString(bytes)));
        return ChildProcess.start("the Python TLS server", command);
    }

    /** {@return the port of a Python server, from its READY line} */
    static int port(ChildProcess python) {
        return Integer.parseInt(python.expect("READY").split(" ")[1]);
    }
}
