package dev.tcpscope;

import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.Patterns;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.lang.reflect.Proxy;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An abort that comes while a writer's send(2) has returned in the kernel but not yet to the
 * connection (its bytes are on their way to the peer, not yet counted) records an ending that
 * counts them: the abort waits for the writer's output lock, which the writer gives back once it
 * has counted. The peer's side is the proof of what was sent: it reads exactly those bytes, then
 * the RST. The ending oracle found the opposite ("written 0" while the peer read 200 bytes) when
 * {@code ConnectionOutput.discard} only tried the lock; checked by restoring that (an untimed
 * tryLock, giving up at once): the abort then never waited for the writer, and this test failed
 * waiting for it (an abort that ends before the writer counts records 0 bytes).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EndingCountsAnInFlightSendTest {

    private static final int SIZE = 200;

    @Test
    void anAbortDuringASendCountsItsBytes() throws Exception {
        CountDownLatch sendReturned = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Syscalls held = heldAfterSend(sendReturned, release);
        try (ResetRace race = ResetRace.start(); ResetRace.Trial trial = race.open(0, held)) {
            TcpConnection conn = trial.connection();
            byte[] message = Patterns.bytes(0, SIZE);
            Forked<Void> writer = Forked.start(Forked.Kind.VIRTUAL, "writer", () -> {
                conn.write(message);
                return null;
            });
            assertTrue(sendReturned.await(30, TimeUnit.SECONDS), "the writer's send(2) returned in the kernel");
            Forked<Void> aborter = Forked.start(Forked.Kind.PLATFORM, "aborter", () -> {
                conn.abort();
                return null;
            });
            // The abort closes the socket, then waits for the writer's lock (a timed wait).
            Await.until("the abort waits for the writer", () -> aborter.thread().getState() == Thread.State.TIMED_WAITING);
            release.countDown();
            aborter.await().assertReturned();
            writer.await(); // returned or refused: its bytes went out either way

            assertEquals(SIZE, conn.ending().orElseThrow().bytesWritten(), "the ending counts the bytes the kernel took");
            Seen seen = trial.peer().readToEnd();
            assertEquals(Seen.End.RESET, seen.end(), seen::toString);
            assertArrayEquals(message, seen.data(), "the peer read those bytes, then the RST");
        }
    }

    /** The real calls; the first send that succeeds says so, then waits for {@code release}. */
    private static Syscalls heldAfterSend(CountDownLatch sendReturned, CountDownLatch release) {
        Syscalls real = LinuxSyscalls.INSTANCE;
        return (Syscalls) Proxy.newProxyInstance(Syscalls.class.getClassLoader(), new Class<?>[] {Syscalls.class},
                (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(real, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (method.getName().equals("send") && args[1] instanceof MemorySegment
                            && (long) result > 0 && sendReturned.getCount() > 0) {
                        sendReturned.countDown();
                        release.await(30, TimeUnit.SECONDS);
                    }
                    return result;
                });
    }
}
