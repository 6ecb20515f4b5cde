package dev.tcpscope;

import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.scope.BlockedReader;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Parked;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.StructuredTaskScope.Joiner;
import java.util.concurrent.StructuredTaskScope.Subtask;

import static dev.tcpscope.testing.Patterns.seeded;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Racing connections with {@code Joiner.anySuccessfulResultOrThrow()}: one subtask per address,
 * the first to connect wins. The winner's connection goes on and ends gracefully on
 * {@code finish()}; losers that were refused, cancelled while connecting or cancelled after
 * connecting leave no trace but an RST to their peers, and {@code finish()} does not throw for
 * them. Each observed by real JDK peers.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ScopeRaceTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();

    private static final byte[] REQUEST = seeded(60_000, 41);
    private static final byte[] HELLO = "HELLO\n".getBytes(StandardCharsets.UTF_8);

    /**
     * The refused loser fails first (deterministically: the winner is forked only once it has),
     * then the live one wins. Checked by breaking the code: with the old rule (every FAILED
     * subtask aborting every connection of the scope, in OwningJoiner.onComplete), the failure
     * came first but the winner's connection, made later into a failed scope, was aborted at
     * once and its peer saw RST.
     */
    @Test
    void aRefusedLoserDoesNotHurtTheWinner() throws Exception {
        try (Loopback.ClosedPort refused = new Loopback.ClosedPort();
             JdkPeer.Server live = JdkPeer.Server.open()) {
            var race = TcpScope.open(Joiner.<TcpConnection>anySuccessfulResultOrThrow());
            TcpConnection winner;
            CompletableFuture<Seen> seen;
            Subtask<TcpConnection> loser;
            try (race) {
                loser = race.fork(() -> race.connect(refused.address()));
                Await.until("the refused subtask failed", () -> loser.state() == Subtask.State.FAILED);
                race.fork(() -> race.connect(live.address()));
                winner = race.join();
                seen = live.accept().readToEndAndCloseAsync();
                winner.write(REQUEST);
                race.finish(); // does not throw for the loser
            }
            assertInstanceOf(ConnectException.class, loser.exception());
            Await.result(seen, "the winner's peer").assertEof(REQUEST);
            assertEquals(ConnectionEnding.Mode.GRACEFUL, race.endings().get(winner).mode());
            assertEquals(1, race.endings().size(), () -> "only the winner was connected: " + race.endings());
        }
    }

    /**
     * Two live listeners: the first subtask connects, sends a greeting and waits for a reply
     * that never comes; the second connects and wins. The loser is cancelled (interrupted) and
     * set aside: its peer sees the greeting, then RST; the winner's peer sees every byte and
     * FIN; finish() does not throw. Checked by breaking the code: with set-aside branches left
     * alone by finish() (ScopeLedger.setAsideRunning a no-op), the loser's connection was
     * finished too and its peer saw EOF; with set-aside branches counted as responsible
     * (ScopeFinish reporting every aborted connection), finish() threw UndeliveredException.
     */
    @Test
    void aCancelledLoserIsResetAndTheWinnerFinishes() throws Exception {
        try (JdkPeer.Server first = JdkPeer.Server.open();
             JdkPeer.Server second = JdkPeer.Server.open()) {
            var race = TcpScope.open(Joiner.<TcpConnection>anySuccessfulResultOrThrow());
            CompletableFuture<BlockedReader> loserReading = new CompletableFuture<>();
            CompletableFuture<TcpConnection> loserConnection = new CompletableFuture<>();
            TcpConnection winner;
            CompletableFuture<Seen> seenLoser;
            CompletableFuture<Seen> seenWinner;
            try (race) {
                race.fork(() -> {
                    TcpConnection c = race.connect(first.address());
                    loserConnection.complete(c);
                    c.write(HELLO);
                    BlockedReader reader = new BlockedReader(c);
                    loserReading.complete(reader);
                    reader.call(); // the reply never comes
                    return c;
                });
                seenLoser = first.accept().readToEndAndCloseAsync();
                BlockedReader reader = Await.result(loserReading, "the loser to connect and wait");
                reader.awaitParked();

                race.fork(() -> race.connect(second.address()));
                winner = race.join();
                seenWinner = second.accept().readToEndAndCloseAsync();
                reader.assertWokenByOurSide(); // cancelled: interrupted in its read
                assertTrue(Await.result(loserConnection, "the loser's connection").isOpen(),
                        "set aside, but not yet aborted: finish() does that");
                winner.write(REQUEST);
                race.finish();
            }
            Await.result(seenLoser, "the loser's peer").assertReset(HELLO);
            Await.result(seenWinner, "the winner's peer").assertEof(REQUEST);
            TcpConnection loser = loserConnection.get();
            assertEquals(ConnectionEnding.Mode.ABORTED, race.endings().get(loser).mode());
            assertTrue(race.endings().get(loser).reason().contains("set aside"), race.endings().get(loser)::reason);
            assertEquals(ConnectionEnding.Mode.GRACEFUL, race.endings().get(winner).mode());
        }
    }

    /** Without finish() the winner is aborted too: winning the race is not a declaration of success. */
    @Test
    void withoutFinishTheWinnerIsAbortedToo() throws Exception {
        try (JdkPeer.Server live = JdkPeer.Server.open()) {
            var race = TcpScope.open(Joiner.<TcpConnection>anySuccessfulResultOrThrow());
            TcpConnection winner;
            CompletableFuture<Seen> seen;
            try (race) {
                race.fork(() -> race.connect(live.address()));
                winner = race.join();
                seen = live.accept().readToEndAndCloseAsync();
                winner.write(REQUEST);
            }
            Await.result(seen, "the winner's peer").assertReset(REQUEST);
        }
    }

    /**
     * A loser still connecting (its SYN dropped by a full accept queue) when the winner wins is
     * interrupted out of connect by the cancellation: nothing to abort, nothing reported, no
     * descriptor left behind (the class's OpenSockets check).
     */
    @Test
    void aLoserCancelledWhileConnectingLeavesNothingBehind() throws Exception {
        try (Loopback.FullBacklog hanging = Loopback.FullBacklog.open(LinuxSyscalls.INSTANCE);
             JdkPeer.Server live = JdkPeer.Server.open()) {
            var race = TcpScope.open(Joiner.<TcpConnection>anySuccessfulResultOrThrow());
            CompletableFuture<Thread> connecting = new CompletableFuture<>();
            TcpConnection winner;
            CompletableFuture<Seen> seen;
            try (race) {
                race.fork(() -> {
                    connecting.complete(Thread.currentThread());
                    return race.connect(hanging.address());
                });
                Parked.await(Await.result(connecting, "the loser to start connecting"));
                race.fork(() -> race.connect(live.address()));
                winner = race.join();
                seen = live.accept().readToEndAndCloseAsync();
                winner.write(REQUEST);
                race.finish();
            }
            Await.result(seen, "the winner's peer").assertEof(REQUEST);
            assertEquals(1, race.endings().size(), race.endings()::toString);
            assertSame(winner, race.endings().keySet().iterator().next());
            assertFalse(winner.isOpen());
        }
    }
}
