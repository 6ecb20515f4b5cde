package dev.tcpscope.testing;

import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.Syscalls;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The real {@link Syscalls}, except that epoll_wait runs only when the test lets it, one call at a
 * time: for tests of a poller's loop ({@code Poller.start(new SteppedEpollWait())}) that need to
 * know what one epoll_wait returned, e.g. several events at once.
 *
 * <p>The poller's thread stops at a gate before each epoll_wait. {@link #awaitAtGate()} returns
 * once it is there, so every event of the previous call has been dispatched; {@link #step()}
 * lets one real epoll_wait through (it returns whatever is ready by then, or blocks until
 * something is) and waits until the thread is back at the gate. {@link #stop()} makes the call at
 * the gate fail with EBADF, which ends the poller (fail-stop), so that no test leaves a thread
 * waiting at a gate.
 */
public final class SteppedEpollWait implements Syscalls {

    private final Syscalls delegate = LinuxSyscalls.INSTANCE;
    private final Semaphore atGate = new Semaphore(0);
    private final Semaphore allowed = new Semaphore(0);
    private volatile boolean stopped;
    private volatile int lastResult;

    @Override
    public int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMillis) {
        atGate.release();
        allowed.acquireUninterruptibly();
        if (stopped) {
            return -Errno.EBADF;
        }
        int n = delegate.epollWait(epfd, events, maxEvents, timeoutMillis);
        lastResult = n;
        return n;
    }

    /** Waits until the poller's thread is at the gate: it has dispatched every earlier event. */
    public void awaitAtGate() throws InterruptedException {
        if (!atGate.tryAcquire(Await.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the poller's thread did not come back to epoll_wait within " + Await.TIMEOUT);
        }
    }

    /**
     * Lets one epoll_wait through and waits until the poller's thread is back at the gate.
     *
     * @return what that epoll_wait returned: the number of events dispatched
     */
    public int step() throws InterruptedException {
        allowed.release();
        awaitAtGate();
        return lastResult;
    }

    /** Makes the epoll_wait at the gate, and every later one, fail with EBADF: the poller ends. */
    public void stop() {
        stopped = true;
        allowed.release(Integer.MAX_VALUE / 2);
    }

    @Override
    public int socket(int domain, int type, int protocol) {
        return delegate.socket(domain, type, protocol);
    }

    @Override
    public int connect(int fd, MemorySegment address, int length) {
        return delegate.connect(fd, address, length);
    }

    @Override
    public int bind(int fd, MemorySegment address, int length) {
        return delegate.bind(fd, address, length);
    }

    @Override
    public int listen(int fd, int backlog) {
        return delegate.listen(fd, backlog);
    }

    @Override
    public int accept4(int fd, MemorySegment address, MemorySegment lengthInOut, int flags) {
        return delegate.accept4(fd, address, lengthInOut, flags);
    }

    @Override
    public int getsockopt(int fd, int level, int option, MemorySegment value, MemorySegment lengthInOut) {
        return delegate.getsockopt(fd, level, option, value, lengthInOut);
    }

    @Override
    public int setsockopt(int fd, int level, int option, MemorySegment value, int length) {
        return delegate.setsockopt(fd, level, option, value, length);
    }

    @Override
    public int getsockname(int fd, MemorySegment address, MemorySegment lengthInOut) {
        return delegate.getsockname(fd, address, lengthInOut);
    }

    @Override
    public int getpeername(int fd, MemorySegment address, MemorySegment lengthInOut) {
        return delegate.getpeername(fd, address, lengthInOut);
    }

    @Override
    public int shutdown(int fd, int how) {
        return delegate.shutdown(fd, how);
    }

    @Override
    public int close(int fd) {
        return delegate.close(fd);
    }

    @Override
    public long recv(int fd, MemorySegment buffer) {
        return delegate.recv(fd, buffer);
    }

    @Override
    public long send(int fd, MemorySegment buffer) {
        return delegate.send(fd, buffer);
    }

    @Override
    public int ioctl(int fd, long request, MemorySegment intOut) {
        return delegate.ioctl(fd, request, intOut);
    }

    @Override
    public int fcntl(int fd, int command) {
        return delegate.fcntl(fd, command);
    }

    @Override
    public int epollCreate1(int flags) {
        return delegate.epollCreate1(flags);
    }

    @Override
    public int epollCtl(int epfd, int op, int fd, MemorySegment event) {
        return delegate.epollCtl(epfd, op, fd, event);
    }

    @Override
    public long writev(int fd, MemorySegment iov, int count) {
        return delegate.writev(fd, iov, count);
    }

    @Override
    public long readv(int fd, MemorySegment iov, int count) {
        return delegate.readv(fd, iov, count);
    }

    @Override
    public long sendfile(int outFd, int inFd, MemorySegment offset, long count) {
        return delegate.sendfile(outFd, inFd, offset, count);
    }

    @Override
    public long splice(int fdIn, int fdOut, long length, int flags) {
        return delegate.splice(fdIn, fdOut, length, flags);
    }

    @Override
    public int pipe2(MemorySegment fds, int flags) {
        return delegate.pipe2(fds, flags);
    }

    @Override
    public int open(MemorySegment path, int flags) {
        return delegate.open(path, flags);
    }
}
