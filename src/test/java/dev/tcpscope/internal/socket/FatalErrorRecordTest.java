package dev.tcpscope.internal.socket;

import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.SystemCallException;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.internal.poll.Deadline;
import dev.tcpscope.testing.Forked;
import dev.tcpscope.testing.Loopback;
import dev.tcpscope.testing.OpenSockets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.MemorySegment;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The interleaving that made a reset read as a clean end, forced deterministically: the writer's
 * {@code send} takes the pending error (ECONNRESET) and, before it returns, the reader's
 * {@code recv} returns 0. The reader must wait for the writer's call to record what it saw and
 * report the reset, never -1. The system calls are real except the two that the test scripts.
 *
 * <p>Checked: with {@link FatalErrorRecord#settle()} returning the record without waiting for the
 * calls in flight, the reader returned -1 in (nearly) every trial and this test failed.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FatalErrorRecordTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    private static final int TRIALS = 200;

    /** Scripts send and recv of one descriptor; every other call is the real one. */
    private static final class Script {
        volatile int fd = -1;
        volatile int sendErrno;               // what the scripted send reports (it sends nothing)
        final CountDownLatch inSend = new CountDownLatch(1);
        final CountDownLatch recvReturnedZero = new CountDownLatch(1);

        Syscalls syscalls() {
            return (Syscalls) Proxy.newProxyInstance(Syscalls.class.getClassLoader(), new Class<?>[] {Syscalls.class},
                    (proxy, method, args) -> {
                        boolean ours = args != null && args.length > 0 && args[0] instanceof Integer f && f == fd;
                        if (ours && method.getName().equals("send")) {
                            inSend.countDown();
                            recvReturnedZero.await(); // the error is "taken" while the reader sees 0
                            return (long) -sendErrno;
                        }
                        if (ours && method.getName().equals("recv")) {
                            inSend.await();
                            recvReturnedZero.countDown();
                            return 0L;
                        }
                        try {
                            return method.invoke(LinuxSyscalls.INSTANCE, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        }
    }

    @Test
    void aReadThatGetsZeroWhileASendTakesTheResetReportsTheReset() throws Exception {
        AtomicInteger resets = new AtomicInteger();
        for (int trial = 0; trial < TRIALS; trial++) {
            Forked.Kind kind = trial % 2 == 0 ? Forked.Kind.VIRTUAL : Forked.Kind.PLATFORM;
            Throwable readerSaw = race(Errno.ECONNRESET, kind);
            assertInstanceOf(ConnectionResetException.class, readerSaw,
                    () -> "trial " + resets.get() + " (" + kind + "): the reader did not report the reset");
            resets.incrementAndGet();
        }
        assertEquals(TRIALS, resets.get());
    }

    /** The same for ETIMEDOUT (TCP_USER_TIMEOUT, keep-alive expiry): a dead connection is not a FIN. */
    @Test
    void aReadThatGetsZeroWhileASendTakesATimeoutReportsTheTimeout() throws Exception {
        for (int trial = 0; trial < TRIALS / 4; trial++) {
            Throwable readerSaw = race(Errno.ETIMEDOUT, Forked.Kind.PLATFORM);
            SystemCallException e = assertInstanceOf(SystemCallException.class, readerSaw);
            assertEquals(Errno.ETIMEDOUT, e.errno());
            assertTrue(e.getMessage().contains("first reported by send"), e::getMessage);
        }
    }

    /** Runs one reader against one writer whose send takes {@code errno}; {@return what the reader got} */
    private static Throwable race(int errno, Forked.Kind kind) throws Exception {
        Script script = new Script();
        script.sendErrno = errno;
        try (Loopback.Pair pair = Loopback.Pair.open(script.syscalls())) {
            NativeSocket socket = pair.client();
            script.fd = fdOf(socket);
            Forked<Void> writer = Forked.start(kind, "writer", () -> {
                socket.write(MemorySegment.ofArray(new byte[16]), Deadline.NONE);
                return null;
            });
            Forked<Integer> reader = Forked.start(kind, "reader",
                    () -> socket.read(MemorySegment.ofArray(new byte[16]), Deadline.NONE));
            Forked.Outcome<Void> wrote = writer.await(java.time.Duration.ofSeconds(30));
            assertTrue(wrote.failure() != null, "the scripted send fails");
            Forked.Outcome<Integer> read = reader.await(java.time.Duration.ofSeconds(30));
            Throwable readerSaw = read.failure();
            if (readerSaw == null) {
                return new AssertionError("read returned " + read.value() + " (-1 is the lie this test guards)");
            }
            return readerSaw;
        }
    }

    private static int fdOf(NativeSocket socket) throws Exception {
        int fd = socket.descriptor().acquire();
        socket.descriptor().release();
        return fd;
    }

    @Test
    void theRecordKeepsTheFirstErrorButAMoreTellingOneReplacesEpipe() {
        FatalErrorRecord record = new FatalErrorRecord();
        record.record(Errno.EPIPE, "send");
        record.record(Errno.ETIMEDOUT, "recv");
        record.record(Errno.ECONNRESET, "recv");
        assertEquals(new FatalErrorRecord.Failure(Errno.ETIMEDOUT, "recv"), record.get());
        assertEquals(record.get(), record.settle(), "nothing in flight: settle returns at once");
    }
}
