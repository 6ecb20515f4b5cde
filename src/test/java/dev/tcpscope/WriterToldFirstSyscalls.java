package dev.tcpscope;

import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.Syscalls;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The real system calls for one socket, with the one order of a reset race that loses the reset
 * when a socket remembers it only once the call the kernel told has returned:
 * <ol>
 *   <li>the kernel tells a {@code send} (ECONNRESET), while a reader waits;</li>
 *   <li>the reader's {@code recv} then returns 0 (Linux reports the error once), and the reader
 *       goes on with it: it ends, or waits for something (a fixed socket may wait for the send);</li>
 *   <li>only then does that {@code send} return to its caller.</li>
 * </ol>
 * Once the test calls {@link #resetComing}, each {@code recv} waits until a {@code send} has
 * returned an error; a {@code send} that gets ECONNRESET waits until a {@code recv} has returned
 * 0 and the reader's thread has ended or waits (is not running). Nothing else changes: every call
 * is made for real. Each wait gives up after {@link #BOUND}, so that a socket that never makes
 * the awaited call (it may not need to) is slowed down, not hung.
 *
 * <p>One instance per socket: its state is that socket's.
 */
final class WriterToldFirstSyscalls implements Syscalls {

    /** How long a call waits for the other at most; only a socket that skips the call waits that long. */
    static final Duration BOUND = Duration.ofSeconds(1);

    private final Syscalls real = LinuxSyscalls.INSTANCE;
    private final CountDownLatch resetComing = new CountDownLatch(1);
    private final CountDownLatch sendFailed = new CountDownLatch(1);
    private final CountDownLatch recvReturnedZero = new CountDownLatch(1);
    private volatile Thread reader;

    /**
     * From now on recv waits for a send to take the error, and that send waits for
     * {@code reader} to go on after its recv returned 0. Call it before the peer resets.
     */
    void resetComing(Thread reader) {
        this.reader = reader;
        resetComing.countDown();
    }

    /** {@return whether the race was forced: a send took ECONNRESET and a recv returned 0 after it} */
    boolean forced() {
        return sendFailed.getCount() == 0 && recvReturnedZero.getCount() == 0;
    }

    @Override
    public long recv(int fd, MemorySegment buffer) {
        if (resetComing.getCount() == 0) {
            await(sendFailed);
        }
        long n = real.recv(fd, buffer);
        if (n == 0 && sendFailed.getCount() == 0) {
            recvReturnedZero.countDown();
        }
        return n;
    }

    @Override
    public long send(int fd, MemorySegment buffer) {
        long n = real.send(fd, buffer);
        if (n < 0 && n != -Errno.EAGAIN && n != -Errno.EINTR && resetComing.getCount() == 0) {
            sendFailed.countDown();
            if (n == -Errno.ECONNRESET) {
                long deadline = System.nanoTime() + BOUND.toNanos();
                await(recvReturnedZero);
                while (!readerWentOn() && System.nanoTime() - deadline < 0) {
                    LockSupport.parkNanos(10_000);
                }
            }
        }
        return n;
    }

    /** {@return whether the reader has ended, or waits (parked, on a lock or with a timeout)} */
    private boolean readerWentOn() {
        Thread.State state = reader.getState();
        return state == Thread.State.TERMINATED || state == Thread.State.WAITING
                || state == Thread.State.TIMED_WAITING || state == Thread.State.BLOCKED;
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(BOUND.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the socket layer sees it and reports it
        }
    }

    // ------------------------------------------------------------ every other call, unchanged

    @Override
    public int socket(int domain, int type, int protocol) {
        return real.socket(domain, type, protocol);
    }

    @Override
    public int connect(int fd, MemorySegment address, int length) {
        return real.connect(fd, address, length);
    }

    @Override
    public int bind(int fd, MemorySegment address, int length) {
        return real.bind(fd, address, length);
    }

    @Override
    public int listen(int fd, int backlog) {
        return real.listen(fd, backlog);
    }

    @Override
    public int accept4(int fd, MemorySegment address, MemorySegment lengthInOut, int flags) {
        return real.accept4(fd, address, lengthInOut, flags);
    }

    @Override
    public int getsockopt(int fd, int level, int option, MemorySegment value, MemorySegment lengthInOut) {
        return real.getsockopt(fd, level, option, value, lengthInOut);
    }

    @Override
    public int setsockopt(int fd, int level, int option, MemorySegment value, int length) {
        return real.setsockopt(fd, level, option, value, length);
    }

    @Override
    public int getsockname(int fd, MemorySegment address, MemorySegment lengthInOut) {
        return real.getsockname(fd, address, lengthInOut);
    }

    @Override
    public int getpeername(int fd, MemorySegment address, MemorySegment lengthInOut) {
        return real.getpeername(fd, address, lengthInOut);
    }

    @Override
    public int shutdown(int fd, int how) {
        return real.shutdown(fd, how);
    }

    @Override
    public int close(int fd) {
        return real.close(fd);
    }

    @Override
    public int ioctl(int fd, long request, MemorySegment intOut) {
        return real.ioctl(fd, request, intOut);
    }

    @Override
    public int fcntl(int fd, int command) {
        return real.fcntl(fd, command);
    }

    @Override
    public int epollCreate1(int flags) {
        return real.epollCreate1(flags);
    }

    @Override
    public int epollCtl(int epfd, int op, int fd, MemorySegment event) {
        return real.epollCtl(epfd, op, fd, event);
    }

    @Override
    public int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMillis) {
        return real.epollWait(epfd, events, maxEvents, timeoutMillis);
    }

    @Override
    public long writev(int fd, MemorySegment iov, int count) {
        return real.writev(fd, iov, count);
    }

    @Override
    public long readv(int fd, MemorySegment iov, int count) {
        return real.readv(fd, iov, count);
    }

    @Override
    public long sendfile(int outFd, int inFd, MemorySegment offset, long count) {
        return real.sendfile(outFd, inFd, offset, count);
    }

    @Override
    public long splice(int fdIn, int fdOut, long length, int flags) {
        return real.splice(fdIn, fdOut, length, flags);
    }

    @Override
    public int pipe2(MemorySegment fds, int flags) {
        return real.pipe2(fds, flags);
    }

    @Override
    public int open(MemorySegment path, int flags) {
        return real.open(path, flags);
    }
}
