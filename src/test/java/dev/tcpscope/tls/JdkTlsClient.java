package dev.tcpscope.tls;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;

/**
 * The JDK's own {@link SSLSocket} as a TLS peer, run in a child JVM so that the test chooses
 * {@code -Dcom.sun.net.ssl.requireCloseNotify} (read once per JVM: a static final field of
 * {@code sun.security.ssl.BaseSSLSocketImpl}).
 *
 * <p>{@code JdkTlsClient PORT VERSION PATH KEYSTORE PASSWORD}: connects to 127.0.0.1:PORT with
 * TLSvVERSION only, trusting the certificate in KEYSTORE, sends {@code GET PATH HTTP/1.0}, reads
 * to the end, and prints {@code HANDSHAKE <protocol>}, then {@code EOF <bytes>} (read returned -1)
 * or {@code EXCEPTION <bytes> <class>: <message>}.
 */
public final class JdkTlsClient {

    private JdkTlsClient() {}

    public static void main(String[] args) throws Exception {
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(Path.of(args[3]))) {
            trusted.load(in, args[4].toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", Integer.parseInt(args[0]))) {
            socket.setEnabledProtocols(new String[] {"TLSv" + args[1]});
            socket.startHandshake();
            System.out.println("HANDSHAKE " + socket.getSession().getProtocol());
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + args[2] + " HTTP/1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            long total = 0;
            try {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    total += n;
                }
                System.out.println("EOF " + total);
            } catch (Exception e) {
                System.out.println("EXCEPTION " + total + " " + e.getClass().getName() + ": " + e.getMessage());
            }
        }
    }
}
