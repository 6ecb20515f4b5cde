package dev.tcpscope.examples;

import dev.tcpscope.ConnectionEnding;
import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.opentest4j.AssertionFailedError;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static dev.tcpscope.testing.Patterns.seeded;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@link Relay} example carries endings end to end, observed by JDK sockets at both far
 * ends: a client on one side, an upstream server on the other.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RelayTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final InetSocketAddress ANY_LOOPBACK_PORT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private final BlockingQueue<Relay.Session> sessions = new LinkedBlockingQueue<>();
    private JdkPeer.Server upstream;

    @BeforeEach
    void openUpstream() throws IOException {
        upstream = JdkPeer.Server.open();
    }

    @AfterEach
    void closeUpstream() throws IOException {
        upstream.close();
    }

    private Relay startRelay() throws IOException {
        return Relay.start(ANY_LOOPBACK_PORT, upstream.address(), sessions::add);
    }

    /** {@return the next session the relay reports as ended} */
    private Relay.Session nextSession() throws InterruptedException {
        Relay.Session session = sessions.poll(Await.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (session == null) {
            throw new AssertionFailedError("the relay reported no ended session within " + Await.TIMEOUT.toSeconds()
                    + " s");
        }
        return session;
    }

    /** Asserts the next session to end had no failure, and ended both its connections gracefully. */
    private void assertNextSessionGraceful() throws InterruptedException {
        Relay.Session session = nextSession();
        assertNull(session.failure());
        assertEndings(session, ConnectionEnding.Mode.GRACEFUL);
    }

    /** Asserts the next session to end failed because one of its peers reset, and aborted both connections. */
    private void assertNextSessionAbortedByAReset() throws InterruptedException {
        Relay.Session session = nextSession();
        assertTrue(causedBy(session.failure(), ConnectionResetException.class), () -> "" + session.failure());
        assertEndings(session, ConnectionEnding.Mode.ABORTED);
    }

    private static void assertEndings(Relay.Session session, ConnectionEnding.Mode mode) {
        assertEquals(2, session.endings().size(), () -> "client and upstream: " + session.endings());
        for (ConnectionEnding ending : session.endings().values()) {
            assertEquals(mode, ending.mode(), ending::toString);
        }
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Connects a client and reads to the end. The relay may reset the client before the JDK's
     * connect() has returned: that counts as the reset it is.
     */
    private static Seen connectAndReadToEnd(InetSocketAddress address) throws IOException {
        JdkPeer client;
        try {
            client = JdkPeer.connect(address);
        } catch (SocketException e) {
            if (Seen.End.of(e) != Seen.End.RESET) {
                throw e;
            }
            return new Seen(new byte[0], Seen.End.RESET, e);
        }
        return Await.result(client.readToEndAndCloseAsync(), "the client's read");
    }

    @Test
    void upstreamFinReachesTheClientAfterEveryByte() throws Exception {
        byte[] response = seeded(1_000_000, 31);
        try (Relay relay = startRelay()) {
            JdkPeer client = JdkPeer.connect(relay.address());
            JdkPeer server = upstream.accept();
            CompletableFuture<Seen> serverSeen = Forked.onPlatformThread("upstream", () -> {
                server.write(response);
                server.sendFin();         // FIN after the last byte
                return server.readToEndAndClose();
            });
            Await.result(client.readToEndAndCloseAsync(), "the client's read").assertEof(response);
            // The client's FIN (it closed after the EOF) reached the upstream as FIN too.
            Await.result(serverSeen, "the upstream's read").assertEof(new byte[0]);

            assertNextSessionGraceful();
        }
    }

    @Test
    void upstreamResetReachesTheClientAsReset() throws Exception {
        byte[] partial = seeded(300_000, 32);
        try (Relay relay = startRelay()) {
            JdkPeer client = JdkPeer.connect(relay.address());
            JdkPeer server = upstream.accept();
            client.write(new byte[] {'?'});
            server.readExactly(1);    // the relay is relaying: both connections are up
            CompletableFuture<Seen> clientSeen = client.readToEndAndCloseAsync();
            server.write(partial);
            server.reset();           // the upstream fails mid-response

            // Not a clean EOF after a truncated response: the client knows it failed.
            Await.result(clientSeen, "the client's read").assertReset(partial);

            assertNextSessionAbortedByAReset();
        }
    }

    @Test
    void clientResetReachesTheUpstreamAsReset() throws Exception {
        byte[] request = seeded(10_000, 33);
        try (Relay relay = startRelay()) {
            JdkPeer client = JdkPeer.connect(relay.address());
            JdkPeer server = upstream.accept();
            client.write(request);
            assertArrayEquals(request, server.readExactly(request.length)); // the relay is relaying
            CompletableFuture<Seen> serverSeen = server.readToEndAndCloseAsync();
            client.reset();           // the client gives up

            Await.result(serverSeen, "the upstream's read").assertReset();

            assertNextSessionAbortedByAReset();
        }
    }

    @Test
    void clientHalfCloseGetsTheWholeResponse() throws Exception {
        // HTTP/1.0 style: the client half-closes after its request, the server answers once it
        // has seen the end of the request, then closes.
        byte[] request = "GET / HTTP/1.0\r\nHost: upstream\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] body = seeded(500_000, 34);
        byte[] header = ("HTTP/1.0 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] response = new byte[header.length + body.length];
        System.arraycopy(header, 0, response, 0, header.length);
        System.arraycopy(body, 0, response, header.length, body.length);

        try (Relay relay = startRelay()) {
            JdkPeer client = JdkPeer.connect(relay.address());
            JdkPeer server = upstream.accept();
            CompletableFuture<byte[]> requestSeen = Forked.onPlatformThread("upstream", () -> {
                byte[] all = server.socket().getInputStream().readAllBytes(); // until the request's FIN
                server.write(response);
                server.close();       // FIN: nothing was left unread
                return all;
            });
            client.write(request);
            client.sendFin();         // the half-close

            Await.result(client.readToEndAndCloseAsync(), "the client's read").assertEof(response);
            assertArrayEquals(request, Await.result(requestSeen, "the upstream's read of the request"));

            assertNextSessionGraceful();
        }
    }

    @Test
    void upstreamResetAfterTheClientsHalfCloseIsNotMaskedAsAnEnd() throws Exception {
        // The relay passed the client's FIN on, but has sent the client no FIN of its own: when
        // the upstream then fails mid-response, the client still learns it as a reset.
        byte[] request = seeded(2_000, 38);
        byte[] partial = seeded(100_000, 39);
        try (Relay relay = startRelay()) {
            JdkPeer client = JdkPeer.connect(relay.address());
            JdkPeer server = upstream.accept();
            client.write(request);
            client.sendFin();
            assertArrayEquals(request, server.socket().getInputStream().readAllBytes()); // request, FIN
            CompletableFuture<Seen> clientSeen = client.readToEndAndCloseAsync();
            server.write(partial);
            server.reset();

            Await.result(clientSeen, "the client's read").assertReset(partial);

            assertNextSessionAbortedByAReset();
        }
    }

    @Test
    void concurrentClientsEachGetTheirOwnSession() throws Exception {
        int clients = 8;
        try (Relay relay = startRelay()) {
            // The upstream echoes each connection until its FIN, then ends with FIN too.
            CompletableFuture<Void> echo = Forked.onPlatformThread("echo-acceptor", () -> {
                for (int i = 0; i < clients; i++) {
                    JdkPeer server = upstream.accept();
                    Forked.onPlatformThread("echo", () -> {
                        server.socket().getInputStream().transferTo(server.socket().getOutputStream());
                        server.close();
                        return null;
                    });
                }
                return null;
            });
            var seen = new java.util.ArrayList<CompletableFuture<Seen>>();
            for (int i = 0; i < clients; i++) {
                byte[] message = seeded(50_000 + i, 40 + i);
                seen.add(Forked.onPlatformThread("client-" + i, () -> {
                    JdkPeer client = JdkPeer.connect(relay.address());
                    CompletableFuture<Seen> reply = client.readToEndAndCloseAsync();
                    client.write(message);
                    client.sendFin();
                    return Await.result(reply, "the echo");
                }));
            }
            for (int i = 0; i < clients; i++) {
                Await.result(seen.get(i), "client " + i).assertEof(seeded(50_000 + i, 40 + i));
            }
            Await.result(echo, "the upstream's accepts");
            for (int i = 0; i < clients; i++) {
                assertNextSessionGraceful();
            }
        }
    }

    @Test
    void upstreamHalfCloseLetsTheClientGoOnSending() throws Exception {
        // The other direction: the upstream sends a greeting and its FIN first, and still reads.
        byte[] greeting = seeded(20_000, 35);
        byte[] upload = seeded(400_000, 36);
        try (Relay relay = startRelay()) {
            JdkPeer client = JdkPeer.connect(relay.address());
            JdkPeer server = upstream.accept();
            server.write(greeting);
            server.sendFin();
            CompletableFuture<Seen> serverSeen = server.readToEndAndCloseAsync();

            assertArrayEquals(greeting, client.readExactly(greeting.length));
            assertEquals(-1, client.socket().getInputStream().read(), "the upstream's FIN, passed on");
            client.write(upload);
            client.sendFin();

            Await.result(serverSeen, "the upstream's read").assertEof(upload);
            client.close();

            assertNextSessionGraceful();
        }
    }

    @Test
    void unreachableUpstreamResetsTheClient() throws Exception {
        try (Loopback.ClosedPort nowhere = new Loopback.ClosedPort();
             Relay relay = Relay.start(ANY_LOOPBACK_PORT, nowhere.address(), sessions::add)) {
            connectAndReadToEnd(relay.address()).assertReset();

            Relay.Session session = nextSession();
            assertInstanceOf(ConnectException.class, session.failure());
            assertEquals(1, session.endings().size(), () -> "only the client: " + session.endings());
            ConnectionEnding clientEnding = session.endings().values().iterator().next();
            assertEquals(ConnectionEnding.Mode.ABORTED, clientEnding.mode(), clientEnding::toString);
        }
    }

    @Test
    void closingTheRelayResetsSessionsInProgress() throws Exception {
        byte[] request = seeded(5_000, 37);
        Relay relay = startRelay();
        JdkPeer client;
        JdkPeer server;
        try {
            client = JdkPeer.connect(relay.address());
            server = upstream.accept();
            client.write(request);
            assertArrayEquals(request, server.readExactly(request.length));
        } finally {
            relay.close();
        }
        // close() returned after the session ended: both sides were reset.
        Await.result(client.readToEndAndCloseAsync(), "the client's read").assertReset();
        Await.result(server.readToEndAndCloseAsync(), "the upstream's read").assertReset();
        Relay.Session session = nextSession();
        assertInstanceOf(InterruptedException.class, session.failure());
        assertEndings(session, ConnectionEnding.Mode.ABORTED);
    }
}
