package dev.tcpscope.testing;

import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.testing.FaultInjectingSyscalls.Call;
import dev.tcpscope.testing.FaultInjectingSyscalls.Injection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.opentest4j.AssertionFailedError;

import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The test helpers themselves: they must fail loudly rather than let a test pass by accident. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TestingHelpersTest {

    @Test
    void injectionsFireExactlyTheRequestedNumberOfTimesUnderConcurrency() throws Exception {
        var sys = new FaultInjectingSyscalls();
        // fcntl on descriptor -1 really fails with EBADF; the injected errno is told apart by value.
        Injection injection = sys.inject(Call.FCNTL, Errno.EINVAL, 1_500);
        int threads = 4, callsEach = 1_000;
        AtomicInteger injected = new AtomicInteger(), real = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < callsEach; i++) {
                    int result = sys.fcntl(-1, Libc.F_GETFD());
                    (result == -Errno.EINVAL ? injected : real).incrementAndGet();
                }
            }));
        }
        start.countDown();
        for (Thread w : workers) {
            assertTrue(w.join(Duration.ofSeconds(10)));
        }
        assertEquals(1_500, injected.get());
        assertEquals(threads * callsEach - 1_500, real.get());
        assertEquals(1_500, injection.fired());
        assertEquals(0, injection.remaining());
        assertEquals(threads * callsEach, sys.calls(Call.FCNTL));
    }

    @Test
    void injectionsCanBeLimitedToADescriptorAndWithdrawn() {
        var sys = new FaultInjectingSyscalls();
        Injection onFd7 = sys.inject(Call.FCNTL, Errno.EINVAL, 5, 7);
        assertEquals(-Errno.EBADF, sys.fcntl(-1, Libc.F_GETFD()), "another descriptor: the real call");
        onFd7.cancel();
        assertEquals(0, onFd7.fired());
        assertThrows(IllegalArgumentException.class, () -> sys.injectAfterCall(Call.SOCKET, Errno.EINTR, 1, -1),
                "a replaced socket() result would leak the descriptor");
        assertThrows(IllegalArgumentException.class, () -> sys.inject(Call.RECV, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> sys.injectResult(Call.ACCEPT4, 5, 1, -1));
        Injection three = sys.injectResult(Call.FCNTL, 3, 1, FaultInjectingSyscalls.ANY_FD);
        assertEquals(3, sys.fcntl(-1, Libc.F_GETFD()), "a plain value instead of the call");
        assertEquals(-Errno.EBADF, sys.fcntl(-1, Libc.F_GETFD()), "used up: the real call again");
        assertEquals(1, three.fired());
        assertThrows(IllegalArgumentException.class, () -> sys.inject(Call.RECV, Errno.EINTR, 0));
    }

    @Test
    void parkedFailsAtOnceWhenTheThreadEndsInsteadOfParking() {
        Forked<String> quick = Forked.start(Forked.Kind.VIRTUAL, "quick", () -> "done");
        AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> Parked.await(quick.thread()));
        assertTrue(e.getMessage().contains("ended before") && e.getMessage().contains("done"), e.getMessage());
    }

    @Test
    void parkedWaitsForTheExpectedBlocker() throws Exception {
        Object blocker = new Object();
        CountDownLatch release = new CountDownLatch(1);
        Forked<Void> parker = Forked.start(Forked.Kind.VIRTUAL, "parker", () -> {
            while (release.getCount() > 0) {
                LockSupport.park(blocker);
            }
            return null;
        });
        assertSame(blocker, Parked.await(parker.thread(), b -> b == blocker, "the test's blocker"));
        release.countDown();
        LockSupport.unpark(parker.thread());
        parker.await().assertReturned();
    }

    @Test
    void awaitFailsWithItsMessageWhenTheConditionNeverHolds() {
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> Await.until(() -> "never true", Duration.ofMillis(20), () -> false));
        assertEquals("never true", e.getMessage());
    }

    @Test
    void forkedRecordsExceptionsAndTheInterruptStatus() throws Exception {
        Forked<Void> interrupted = Forked.start(Forked.Kind.PLATFORM, "self-interrupting", () -> {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("boom");
        });
        Forked.Outcome<Void> outcome = interrupted.await();
        outcome.assertThrowsExactly(IllegalStateException.class);
        assertTrue(outcome.interruptedAtEnd());
        assertThrows(AssertionFailedError.class, () -> outcome.assertThrowsExactly(RuntimeException.class),
                "exactly: a subclass does not count");
    }

    @Test
    void seenChecksTheEndingAndTheBytes() {
        byte[] sent = {1, 2, 3};
        Seen eof = new Seen(sent.clone(), Seen.End.EOF, null);
        eof.assertEof(sent);
        assertThrows(AssertionFailedError.class, eof::assertReset);
        assertThrows(AssertionFailedError.class, () -> eof.assertEof(new byte[] {1, 2}), "not every byte");
        Seen reset = new Seen(new byte[] {1, 2}, Seen.End.RESET, new SocketException("Connection reset"));
        reset.assertReset(sent);
        assertThrows(AssertionFailedError.class, () -> reset.assertEof(new byte[] {1, 2}));
        assertThrows(AssertionFailedError.class, () -> reset.assertReset(new byte[] {1}), "more than was sent");
        assertThrows(AssertionFailedError.class, () -> reset.assertReset(new byte[] {2, 2, 3}), "not what was sent");
        assertEquals(Seen.End.ERROR, Seen.End.of(new SocketException("Broken pipe")));
    }

    @Test
    void jdkPeerTellsFinFromReset() throws Exception {
        try (JdkPeer.Server server = JdkPeer.Server.open();
             JdkPeer client = JdkPeer.connect(server.address());
             JdkPeer accepted = server.accept()) {
            client.write("request");
            client.sendFin();
            accepted.readToEnd().assertEof("request".getBytes(StandardCharsets.UTF_8));
            accepted.write("partial");
            accepted.reset();
            Seen seen = client.readToEnd();
            seen.assertReset("partial answer".getBytes(StandardCharsets.UTF_8));
            assertEquals(seen.data().length, client.received());
        }
    }

    @Test
    void childProcessFailsWithWhatTheChildPrintedInsteadOfHanging() throws Exception {
        try (ChildProcess child = ChildProcess.start("the shell", List.of("sh", "-c",
                "echo READY 1; read line; echo got $line; echo oops >&2; exit 3"))) {
            assertEquals("READY 1", child.expect("READY"));
            child.sendLine("x");
            AssertionFailedError wrongLine = assertThrows(AssertionFailedError.class, () -> child.expect("DONE"));
            assertTrue(wrongLine.getMessage().contains("got x"), wrongLine.getMessage());
            assertEquals(3, child.awaitExit());
            assertEquals(List.of("READY 1", "got x"), child.stdout());
            assertEquals("oops\n", child.stderr());
            AssertionFailedError ended = assertThrows(AssertionFailedError.class, child::nextLine);
            assertTrue(ended.getMessage().contains("ended its output"), ended.getMessage());
        }
    }
}
