package dev.tcpscope.internal.os;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The errno capture segments are lent per call ({@link CallStatePool}), not kept per thread: a
 * segment is never lent to two callers at once, a full pool still serves (with a fresh
 * segment), and under many threads each system call still reports its own errno.
 *
 * <p>Checked: with {@code claim()} returning slot 0 without its compare-and-set, the first two
 * tests failed (the same segment lent twice) and so did the third (threads read each other's
 * errno: EBADF where EINVAL was due, and the reverse).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CallStatePoolTest {

    private static final int MAX_UNKNOWN_COMMAND = 1 << 20; // an fcntl command no kernel knows

    @Test
    void aClaimedSegmentIsNotLentAgainUntilReleased() {
        CallStatePool pool = new CallStatePool(Linker.Option.captureStateLayout(), 4);
        List<MemorySegment> held = new ArrayList<>();
        for (int i = 0; i < pool.slots(); i++) {
            MemorySegment s = pool.claim();
            for (MemorySegment other : held) {
                assertNotEquals(other.address(), s.address(), "one segment lent twice");
            }
            held.add(s);
        }
        MemorySegment released = held.removeFirst();
        pool.release(released);
        MemorySegment again = pool.claim();
        assertEquals(released.address(), again.address(), "the only free slot is the released one");
    }

    @Test
    void aFullPoolLendsAFreshSegment() {
        CallStatePool pool = new CallStatePool(Linker.Option.captureStateLayout(), 2);
        List<MemorySegment> held = new ArrayList<>();
        for (int i = 0; i < pool.slots(); i++) {
            held.add(pool.claim());
        }
        MemorySegment overflow = pool.claim();
        for (MemorySegment s : held) {
            assertNotEquals(s.address(), overflow.address(), "a busy slot lent to a second caller");
        }
        pool.release(overflow); // harmless: nothing of the pool's is freed
        MemorySegment next = pool.claim();
        for (MemorySegment s : held) {
            assertNotEquals(s.address(), next.address(), "releasing an overflow segment freed a busy slot");
        }
        pool.release(held.getFirst());
        assertEquals(held.getFirst().address(), pool.claim().address(), "the released slot is lent again");
    }

    @Test
    void everyCallReportsItsOwnErrnoUnderManyThreads() throws Exception {
        LinuxSyscalls sys = LinuxSyscalls.INSTANCE;
        int threads = 64;
        int calls = 20_000;
        ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            boolean badDescriptor = t % 2 == 0;
            Thread.Builder builder = t % 4 < 2 ? Thread.ofVirtual() : Thread.ofPlatform().daemon();
            builder.start(() -> {
                try {
                    for (int i = 0; i < calls && wrong.isEmpty(); i++) {
                        // close(-1) fails with EBADF; fcntl(0, unknown command) with EINVAL.
                        int result = badDescriptor ? sys.close(-1) : sys.fcntl(0, MAX_UNKNOWN_COMMAND);
                        int expected = badDescriptor ? -Errno.EBADF : -Errno.EINVAL;
                        if (result != expected) {
                            wrong.add("got " + result + ", expected " + expected);
                        }
                    }
                } finally {
                    done.countDown();
                }
            });
        }
        assertTrue(done.await(50, TimeUnit.SECONDS), "threads did not end");
        assertTrue(wrong.isEmpty(), () -> wrong.size() + " calls saw another call's errno, e.g. " + wrong.peek());
    }
}
