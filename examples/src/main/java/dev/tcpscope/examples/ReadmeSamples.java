package dev.tcpscope.examples;

import dev.tcpscope.FinishResult;
import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;
import dev.tcpscope.TcpScope;
import dev.tcpscope.TcpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.StructuredTaskScope.Joiner;
import javax.net.ssl.SSLContext;

/**
 * The code samples of README.md, compiled by the build. {@code ReadmeSamplesTest} checks that
 * every line of every Java block in the README appears here, in order, so the README cannot rot.
 */
final class ReadmeSamples {

    private ReadmeSamples() {}

    static FinishResult connection(InetSocketAddress address, byte[] request) throws IOException {
        // README: a connection
        try (TcpConnection conn = TcpConnection.connect(address)) {
            conn.write(request);
            readResponse(conn.inputStream());   // throws? close() aborts: the peer sees RST
            FinishResult r = conn.finish();     // FIN; r.delivered() says the peer's TCP acknowledged all
            return r;
        }
    }

    static void scope(InetSocketAddress address) throws Exception {
        // README: a scope
        try (var scope = TcpScope.open()) {                 // also: open(Duration), open(joiner), open(joiner, Duration)
            TcpConnection conn = scope.connect(address);    // owned by this scope
            var reply = scope.fork(() -> readReply(conn));
            scope.fork(() -> { writeRequest(conn); return null; });
            scope.join();
            use(reply.get());                               // throws? close() aborts: the peer sees RST
            scope.finish();                                 // success, declared: every connection ends with FIN
        }   // close() without finish() aborts every owned connection, whatever happened

        String r = TcpScope.call(address, (scope, conn) -> {
            writeRequest(conn);
            return readReply(conn);             // returning declares success; any exception aborts
        });
        use(r);
    }

    static void race(List<InetSocketAddress> replicas) throws Exception {
        // README: racing connections
        try (var race = TcpScope.open(Joiner.<TcpConnection>anySuccessfulResultOrThrow())) {
            for (InetSocketAddress replica : replicas) {
                race.fork(() -> race.connect(replica));     // one subtask per address
            }
            TcpConnection fastest = race.join();            // the first to connect; the others are cancelled
            writeRequest(fastest);
            use(readReply(fastest));
            race.finish();                                  // FIN to the winner; the losers' peers get RST
        }
    }

    static void listener() throws IOException {
        // README: listening
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(0))) {
            TcpConnection conn = listener.accept();   // SO_LINGER {1,0} inherited from the listener
            try (conn) {
                conn.write("hello\n".getBytes(StandardCharsets.UTF_8));
                conn.finish();
            }
        }
    }

    static void server() throws IOException {
        // README: a server
        try (var server = TcpServer.builder(new InetSocketAddress(8080))
                .handlerTimeLimit(java.time.Duration.ofSeconds(30))
                .idleLimit(java.time.Duration.ofSeconds(10))
                .bind()) {
            server.serve((conn, scope) -> {
                String request = readRequest(conn.inputStream());
                OutputStream out = conn.outputStream();
                out.write(render(request));     // throws? the client sees RST, not a short page
            });                                  // returns: the client sees every byte, then FIN
        }
    }

    static void transfer(TcpServer server, TcpScope<Object, Void> pool) {
        // README: a server that hands connections to a pool
        server.serve((conn, scope) -> {
            readRequest(conn.inputStream());
            scope.transfer(conn, pool);         // the pool's scope ends it now; the server leaves it alone
        });
    }

    static long vectored(TcpConnection conn, TcpConnection upstream, TcpConnection client, ByteBuffer header,
                         ByteBuffer body, ByteBuffer prefix, ByteBuffer rest, Path file, long position, long count)
            throws IOException {
        // README: vectored and zero-copy I/O
        conn.write(header, body);                 // gathering: one writev(2) carries both (ByteBuffer...)
        long n = conn.read(prefix, rest);         // scattering: readv(2) fills prefix, then rest; -1 = FIN
        conn.sendFile(Path.of("index.html"));     // sendfile(2): the file's pages go to the socket directly
        conn.sendFile(file, position, count);     // a range; count -1 = to the end of the file
        long moved = upstream.transferTo(client); // splice(2) upstream -> pipe -> client until upstream's FIN
        client.shutdownOutput();                  // passing the FIN on is the caller's decision
        return n + moved;
    }

    static TcpServer tls(InetSocketAddress address, SSLContext sslContext, byte[] request) throws IOException {
        // README: TLS
        try (TcpConnection conn = TcpConnection.connectTls(address, sslContext)) { // handshake included
            conn.write(request);
            readResponse(conn.inputStream());   // -1 only after the server's close_notify
            conn.finish();                      // close_notify, then FIN after every byte was acknowledged
        }                                       // threw? no close_notify, RST

        TcpServer server = TcpServer.builder(address).tls(sslContext).bind();  // handlers see plaintext
        return server;
    }

    // ---- stand-ins for the application code the samples call

    private static void readResponse(InputStream in) throws IOException {
        in.readAllBytes();
    }

    private static String readReply(TcpConnection conn) throws IOException {
        return new String(conn.inputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    private static void writeRequest(TcpConnection conn) throws IOException {
        conn.write("request\n".getBytes(StandardCharsets.UTF_8));
        conn.shutdownOutput();
    }

    private static String readRequest(InputStream in) throws IOException {
        byte[] line = new byte[256];
        int n = in.read(line);
        return n < 0 ? "" : new String(line, 0, n, StandardCharsets.UTF_8);
    }

    private static byte[] render(String request) {
        return ("you asked: " + request).getBytes(StandardCharsets.UTF_8);
    }

    private static void use(Object value) {
        if (value == null) {
            throw new IllegalStateException("no reply");
        }
    }
}
