package dev.tcpscope.bench.peers;

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
 * The certificate of the TLS benchmarks: self-signed, an EC P-256 key signed with
 * SHA256withECDSA, for {@code 127.0.0.1} (and {@code localhost}), made by the JDK's own
 * {@code keytool} into a PKCS#12 keystore in a fresh temporary directory, the way the library's
 * tests and {@code serve --tls} make theirs (bench/ depends on neither). Each trial's setup makes
 * one (a keytool child JVM, about a second, outside the measurement); the tcpscope and the JDK
 * variants use the same kind of certificate, and within a variant both ends use the same one.
 *
 * @param keystore the PKCS#12 file (alias {@code bench}), deleted when the JVM exits
 * @param password the keystore's and the key's password (a throwaway key)
 */
public record TlsCertificate(Path keystore, char[] password) {

    /** Runs keytool; {@return the new certificate}. */
    public static TlsCertificate create() throws IOException {
        Path dir = Files.createTempDirectory("tcpscope-bench-tls");
        Path keystore = dir.resolve("bench.p12");
        String password = "tcpscope-bench";
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        List<String> command = List.of(keytool.toString(), "-genkeypair", "-alias", "bench",
                "-keyalg", "EC", "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA",
                "-dname", "CN=localhost", "-ext", "san=ip:127.0.0.1,dns:localhost", "-validity", "2",
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
        return new TlsCertificate(keystore, password.toCharArray());
    }

    /** {@return a server context holding the key and the certificate} */
    public SSLContext serverContext() throws IOException {
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(load(), password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot make the server's TLS context: " + e.getMessage(), e);
        }
    }

    /** {@return a client context that trusts this certificate and nothing else} */
    public SSLContext clientContext() throws IOException {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(load());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot make the client's TLS context: " + e.getMessage(), e);
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
