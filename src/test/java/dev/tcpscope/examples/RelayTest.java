package dev.tcpscope.examples;

import dev.tcpscope.ConnectionEnding;
import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.scope.Peers;
import dev.tcpscope.scope.Peers.Peer;
import dev.tcpscope.scope.Peers.Seen;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
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

import static dev.tcpscope.scope.Peers.await;
import static dev.tcpscope.scope.Peers.pattern;
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
    private Peers.Server upstream;

    @BeforeEach
    void openUpstream() throws IOException {
        upstream = Peers.Server.open();
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
        Relay.Session session = sessions.poll(Peers.WAIT_SECONDS, TimeUnit.SECONDS);
        if (session == null) {
            throw new AssertionFailedError("the relay reported no ended session within " + Peers.WAIT_SECONDS + " s");
        }
        return session;
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
        Peer client;
        try {
            client = Peer.connect(address);
        } catch (SocketException e) {
            if (Peers.classify(e) != Peers.End.RESET) {
                throw e;
            }
            return new Seen(new byte[0], Peers.End.RESET, e);
        }
        return await(client.readToEndAsync(), "the client's read");
    }

    @Test
    void upstreamFinReachesTheClientAfterEveryByte() throws Exception {
        byte[] response = pattern(1_000_000, 31);
        try (Relay relay = startRelay()) {
            Peer client = Peer.connect(relay.address());
            Peer server = upstream.accept();
            CompletableFuture<Seen> serverSeen = Peers.onPlatformThread("upstream", () -> {
                server.write(response);
                server.shutdownOutput();  // FIN after the last byte
                return server.readToEnd();
            });
            await(client.readToEndAsync(), "the client's read").assertEof(response);
            // The client's FIN (it closed after the EOF) reached the upstream as FIN too.
            await(serverSeen, "the upstream's read").assertEof(new byte[0]);

            Relay.Session session = nextSession();
            assertNull(session.failure());
            assertEndings(session, ConnectionEnding.Mode.GRACEFUL);
        }
    }

    @Test
    void upstreamResetReachesTheClientAsReset() throws Exception {
        byte[] partial = pattern(300_000, 32);
        try (Relay relay = startRelay()) {
            Peer client = Peer.connect(relay.address());
            Peer server = upstream.accept();
            client.write(new byte[] {'?'});
            server.readExactly(1);    // the relay is relaying: both connections are up
            CompletableFuture<Seen> clientSeen = client.readToEndAsync();
            server.write(partial);
            server.reset();           // the upstream fails mid-response

            // Not a clean EOF after a truncated response: the client knows it failed.
            await(clientSeen, "the client's read").assertReset(partial);

            Relay.Session session = nextSession();
            assertTrue(causedBy(session.failure(), ConnectionResetException.class), () -> "" + session.failure());
            assertEndings(session, ConnectionEnding.Mode.ABORTED);
        }
    }

    @Test
    void clientResetReachesTheUpstreamAsReset() throws Exception {
        byte[] request = pattern(10_000, 33);
        try (Relay relay = startRelay()) {
            Peer client = Peer.connect(relay.address());
            Peer server = upstream.accept();
            client.write(request);
            assertArrayEquals(request, server.readExactly(request.length)); // the relay is relaying
            CompletableFuture<Seen> serverSeen = server.readToEndAsync();
            client.reset();           // the client gives up

            await(serverSeen, "the upstream's read").assertReset();

            Relay.Session session = nextSession();
            assertTrue(causedBy(session.failure(), ConnectionResetException.class), () -> "" + session.failure());
            assertEndings(session, ConnectionEnding.Mode.ABORTED);
        }
    }

    @Test
    void clientHalfCloseGetsTheWholeResponse() throws Exception {
        // HTTP/1.0 style: the client half-closes after its request, the server answers once it
        // has seen the end of the request, then closes.
        byte[] request = "GET / HTTP/1.0\r\nHost: upstream\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] body = pattern(500_000, 34);
        byte[] header = ("HTTP/1.0 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] response = new byte[header.length + body.length];
        System.arraycopy(header, 0, response, 0, header.length);
        System.arraycopy(body, 0, response, header.length, body.length);

        try (Relay relay = startRelay()) {
            Peer client = Peer.connect(relay.address());
            Peer server = upstream.accept();
            CompletableFuture<byte[]> requestSeen = Peers.onPlatformThread("upstream", () -> {
                byte[] all = server.socket().getInputStream().readAllBytes(); // until the request's FIN
                server.write(response);
                server.close();       // FIN: nothing was left unread
                return all;
            });
            client.write(request);
            client.shutdownOutput();  // the half-close

            await(client.readToEndAsync(), "the client's read").assertEof(response);
            assertArrayEquals(request, await(requestSeen, "the upstream's read of the request"));

            Relay.Session session = nextSession();
            assertNull(session.failure());
            assertEndings(session, ConnectionEnding.Mode.GRACEFUL);
        }
    }

    @Test
    void upstreamResetAfterTheClientsHalfCloseIsNotMaskedAsAnEnd() throws Exception {
        // The relay passed the client's FIN on, but has sent the client no FIN of its own: when
        // the upstream then fails mid-response, the client still learns it as a reset.
        byte[] request = pattern(2_000, 38);
        byte[] partial = pattern(100_000, 39);
        try (Relay relay = startRelay()) {
            Peer client = Peer.connect(relay.address());
            Peer server = upstream.accept();
            client.write(request);
            client.shutdownOutput();
            assertArrayEquals(request, server.socket().getInputStream().readAllBytes()); // request, FIN
            CompletableFuture<Seen> clientSeen = client.readToEndAsync();
            server.write(partial);
            server.reset();

            await(clientSeen, "the client's read").assertReset(partial);

            Relay.Session session = nextSession();
            assertTrue(causedBy(session.failure(), ConnectionResetException.class), () -> "" + session.failure());
            assertEndings(session, ConnectionEnding.Mode.ABORTED);
        }
    }

    @Test
    void concurrentClientsEachGetTheirOwnSession() throws Exception {
        int clients = 8;
        try (Relay relay = startRelay()) {
            // The upstream echoes each connection until its FIN, then ends with FIN too.
            CompletableFuture<Void> echo = Peers.onPlatformThread("echo-acceptor", () -> {
                for (int i = 0; i < clients; i++) {
                    Peer server = upstream.accept();
                    Peers.onPlatformThread("echo", () -> {
                        server.socket().getInputStream().transferTo(server.socket().getOutputStream());
                        server.close();
                        return null;
                    });
                }
                return null;
            });
            var seen = new java.util.ArrayList<CompletableFuture<Seen>>();
            for (int i = 0; i < clients; i++) {
                byte[] message = pattern(50_000 + i, 40 + i);
                seen.add(Peers.onPlatformThread("client-" + i, () -> {
                    Peer client = Peer.connect(relay.address());
                    CompletableFuture<Seen> reply = client.readToEndAsync();
                    client.write(message);
                    client.shutdownOutput();
                    return await(reply, "the echo");
                }));
            }
            for (int i = 0; i < clients; i++) {
                await(seen.get(i), "client " + i).assertEof(pattern(50_000 + i, 40 + i));
            }
            await(echo, "the upstream's accepts");
            for (int i = 0; i < clients; i++) {
                Relay.Session session = nextSession();
                assertNull(session.failure());
                assertEndings(session, ConnectionEnding.Mode.GRACEFUL);
            }
        }
    }

    @Test
    void upstreamHalfCloseLetsTheClientGoOnSending() throws Exception {
        // The other direction: the upstream sends a greeting and its FIN first, and still reads.
        byte[] greeting = pattern(20_000, 35);
        byte[] upload = pattern(400_000, 36);
        try (Relay relay = startRelay()) {
            Peer client = Peer.connect(relay.address());
            Peer server = upstream.accept();
            server.write(greeting);
            server.shutdownOutput();
            CompletableFuture<Seen> serverSeen = server.readToEndAsync();

            assertArrayEquals(greeting, client.readExactly(greeting.length));
            assertEquals(-1, client.socket().getInputStream().read(), "the upstream's FIN, passed on");
            client.write(upload);
            client.shutdownOutput();

            await(serverSeen, "the upstream's read").assertEof(upload);
            client.close();

            Relay.Session session = nextSession();
            assertNull(session.failure());
            assertEndings(session, ConnectionEnding.Mode.GRACEFUL);
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
        byte[] request = pattern(5_000, 37);
        Relay relay = startRelay();
        Peer client;
        Peer server;
        try {
            client = Peer.connect(relay.address());
            server = upstream.accept();
            client.write(request);
            assertArrayEquals(request, server.readExactly(request.length));
        } finally {
            relay.close();
        }
        // close() returned after the session ended: both sides were reset.
        await(client.readToEndAsync(), "the client's read").assertReset();
        await(server.readToEndAsync(), "the upstream's read").assertReset();
        Relay.Session session = nextSession();
        assertInstanceOf(InterruptedException.class, session.failure());
        assertEndings(session, ConnectionEnding.Mode.ABORTED);
    }
}
