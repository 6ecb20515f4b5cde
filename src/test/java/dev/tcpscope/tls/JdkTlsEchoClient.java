package dev.tcpscope.tls;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;

/**
 * The JDK's {@link SSLSocket} as a TLS 1.3 echo client in a child JVM, run with a tiny
 * {@code -Djdk.tls.keyLimits} (read once per JVM) so that it sends KeyUpdate messages, asking for
 * ours, all along the transfer.
 *
 * <p>{@code JdkTlsEchoClient PORT BYTES KEYSTORE PASSWORD}: a writer thread sends BYTES bytes
 * (value i % 251 at offset i), then half-closes (close_notify); the main thread reads the echo
 * to -1 and prints {@code ECHOED <bytes> <mismatches>} or {@code EXCEPTION <bytes> <exception>}.
 */
public final class JdkTlsEchoClient {

    private JdkTlsEchoClient() {}

    public static void main(String[] args) throws Exception {
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(Path.of(args[2]))) {
            trusted.load(in, args[3].toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        long bytes = Long.parseLong(args[1]);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", Integer.parseInt(args[0]))) {
            socket.setEnabledProtocols(new String[] {"TLSv1.3"});
            socket.startHandshake();
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    OutputStream out = socket.getOutputStream();
                    byte[] chunk = new byte[4096];
                    for (long sent = 0; sent < bytes; ) {
                        int n = (int) Math.min(chunk.length, bytes - sent);
                        for (int i = 0; i < n; i++) {
                            chunk[i] = (byte) ((sent + i) % 251);
                        }
                        out.write(chunk, 0, n);
                        sent += n;
                    }
                    out.flush();
                    socket.shutdownOutput(); // TLS 1.3 half-close: close_notify, keep reading
                } catch (Exception e) {
                    System.out.println("WRITER " + e);
                }
            });
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            long total = 0;
            long mismatches = 0;
            try {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    for (int i = 0; i < n; i++) {
                        if (buffer[i] != (byte) ((total + i) % 251)) {
                            mismatches++;
                        }
                    }
                    total += n;
                }
                writer.join();
                System.out.println("ECHOED " + total + " " + mismatches);
            } catch (Exception e) {
                System.out.println("EXCEPTION " + total + " " + e);
            }
        }
    }
}
