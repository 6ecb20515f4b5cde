package dev.tcpscope.examples;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate made at run time for {@code localhost} and {@code 127.0.0.1} (an EC
 * P-256 key, valid for two days), by the JDK's own {@code keytool} into a PKCS#12 keystore in a
 * fresh temporary directory: nothing secret is shipped. For {@code serve --tls} and the tests.
 *
 * @param keystore the PKCS#12 file (alias {@code tcpscope}, password {@link #password})
 * @param password the keystore's and the key's password
 */
public record SelfSignedTls(Path keystore, char[] password) {

    /** Makes a new key and certificate; keytool runs as a child process. */
    public static SelfSignedTls create() throws IOException {
        Path dir = Files.createTempDirectory("tcpscope-tls");
        Path keystore = dir.resolve("server.p12");
        String password = "tcpscope-example"; // protects a throwaway key in a private temp directory
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        List<String> command = List.of(keytool.toString(), "-genkeypair", "-alias", "tcpscope",
                "-keyalg", "EC", "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA",
                "-dname", "CN=localhost", "-ext", "san=dns:localhost,ip:127.0.0.1", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", keystore.toString(),
                "-storepass", password, "-keypass", password);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (InputStream out = p.getInputStream()) {
            String text = new String(out.readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("keytool failed: " + text.strip());
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while keytool ran", e);
        }
        keystore.toFile().deleteOnExit();
        dir.toFile().deleteOnExit();
        return new SelfSignedTls(keystore, password.toCharArray());
    }

    /** {@return a server context holding the key and certificate} */
    public SSLContext serverContext() throws IOException {
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(load(), password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot make a server TLS context: " + e.getMessage(), e);
        }
    }

    /** {@return a client context that trusts this certificate (and nothing else)} */
    public SSLContext clientContext() throws IOException {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(load());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot make a client TLS context: " + e.getMessage(), e);
        }
    }

    private KeyStore load() throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            store.load(in, password);
        }
        return store;
    }
}
