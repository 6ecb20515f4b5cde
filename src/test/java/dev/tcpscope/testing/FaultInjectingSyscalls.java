package dev.tcpscope.testing;

import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.Syscalls;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * {@link Syscalls} that delegates to the real ones ({@link LinuxSyscalls#INSTANCE} by default)
 * and lets a test make chosen calls fail with a chosen errno, while counting every call.
 *
 * <pre>{@code
 * var sys = new FaultInjectingSyscalls();
 * NativeSocket socket = ... opened with sys ...;
 * Injection eintr = sys.inject(Call.RECV, Errno.EINTR, 3, fdOf(socket));  // next 3 recv on that fd
 * socket.read(buffer, deadline);                                         // retried past them
 * assertEquals(3, eintr.fired());
 * }</pre>
 *
 * <p>Two timings model what an errno means:
 * <ul>
 *   <li>{@link #inject} fails the call <em>instead of</em> making it: nothing happens in the
 *       kernel, as for EINTR/EAGAIN on recv, send and accept4, or EMFILE on accept4 (the pending
 *       connection stays queued).</li>
 *   <li>{@link #injectAfterCall} makes the real call and then reports the errno in place of its
 *       result: the call took effect, as for connect interrupted by a signal (the handshake goes
 *       on in the kernel) or close returning EINTR (the descriptor is released anyway). Not
 *       allowed for calls that create a descriptor, since it would leak.</li>
 * </ul>
 *
 * <p>{@link #injectResult} makes calls return a chosen value instead, e.g. recv returning 0;
 * {@link #injectThrow} makes them throw (an Error, say) instead of being made.
 *
 * <p>Injections are consumed in the order they were added; each fires at most {@code times}
 * times, for one descriptor or for any. Counting and injection are thread-safe: each injection
 * is claimed with an atomic decrement, so concurrent calls never fire one more than
 * {@code times} times. Use a fresh instance per test so counts and injections do not leak between
 * tests. The shared poller keeps using the real syscalls (it is process-wide); sockets and listeners
 * opened with this instance route all their calls through it, and a poller of its own
 * ({@code Poller.start(sys)}) routes its epoll calls through it.
 */
public final class FaultInjectingSyscalls implements Syscalls {

    /** The calls of {@link Syscalls}, one per method. */
    public enum Call {
        SOCKET, CONNECT, BIND, LISTEN, ACCEPT4, GETSOCKOPT, SETSOCKOPT, GETSOCKNAME, GETPEERNAME, SHUTDOWN,
        CLOSE, RECV, SEND, IOCTL, FCNTL, EPOLL_CREATE1, EPOLL_CTL, EPOLL_WAIT,
        WRITEV, READV, SENDFILE, SPLICE, PIPE2, OPEN;

        /** {@return the man-page name, e.g. "accept4"} */
        public String callName() {
            return name().toLowerCase(Locale.ROOT);
        }

        boolean createsDescriptor() {
            return this == SOCKET || this == ACCEPT4 || this == EPOLL_CREATE1 || this == PIPE2 || this == OPEN;
        }
    }

    /** Matches any descriptor (and calls that take none, socket and epoll_create1). */
    public static final int ANY_FD = -1;

    /**
     * One planned fault: the next {@code times} matching calls return {@code result} (an errno as
     * {@code -errno}, or a plain value).
     */
    public static final class Injection {
        private final Call call;
        private final long result;
        private final RuntimeException thrownRuntime;
        private final Error thrownError;
        private final int fd;
        private final boolean afterCall;
        private final AtomicInteger remaining;
        private final AtomicInteger fired = new AtomicInteger();

        private Injection(Call call, long result, int times, int fd, boolean afterCall) {
            this(call, result, null, null, times, fd, afterCall);
        }

        private Injection(Call call, long result, RuntimeException thrownRuntime, Error thrownError, int times,
                          int fd, boolean afterCall) {
            this.call = call;
            this.result = result;
            this.thrownRuntime = thrownRuntime;
            this.thrownError = thrownError;
            this.fd = fd;
            this.afterCall = afterCall;
            this.remaining = new AtomicInteger(times);
        }

        /** Throws what this injection throws instead of returning, if it is one that throws. */
        private void throwIfThrowing() {
            if (thrownRuntime != null) {
                throw thrownRuntime;
            }
            if (thrownError != null) {
                throw thrownError;
            }
        }

        /** Claims one firing if this injection matches and has firings left. */
        private boolean claim(Call c, int callFd) {
            if (c != call || (fd != ANY_FD && fd != callFd)) {
                return false;
            }
            if (remaining.getAndUpdate(n -> n > 0 ? n - 1 : 0) <= 0) {
                return false;
            }
            fired.incrementAndGet();
            return true;
        }

        /** {@return how many calls this injection has failed so far} */
        public int fired() {
            return fired.get();
        }

        /** {@return how many more calls it will fail} */
        public int remaining() {
            return remaining.get();
        }

        /** Withdraws the remaining firings. */
        public void cancel() {
            remaining.set(0);
        }

        @Override
        public String toString() {
            String what = thrownRuntime != null ? "throws " + thrownRuntime
                    : thrownError != null ? "throws " + thrownError
                    : result < 0 ? Errno.name((int) -result) : "returns " + result;
            return "Injection[" + call.callName() + " -> " + what + (fd == ANY_FD ? "" : " on fd " + fd)
                    + (afterCall ? " after the call" : "") + ", fired " + fired() + ", remaining " + remaining() + "]";
        }
    }

    private final Syscalls delegate;
    private final List<Injection> injections = new CopyOnWriteArrayList<>();
    private final AtomicLongArray counts = new AtomicLongArray(Call.values().length);

    /** Delegates to {@link LinuxSyscalls#INSTANCE}. */
    public FaultInjectingSyscalls() {
        this(LinuxSyscalls.INSTANCE);
    }

    /** Delegates to {@code delegate}. */
    public FaultInjectingSyscalls(Syscalls delegate) {
        this.delegate = delegate;
    }

    /** Fails the next {@code times} calls of {@code call}, on any descriptor, with {@code errno}, instead of making them. */
    public Injection inject(Call call, int errno, int times) {
        return inject(call, errno, times, ANY_FD);
    }

    /** Fails the next {@code times} calls of {@code call} on {@code fd} with {@code errno}, instead of making them. */
    public Injection inject(Call call, int errno, int times, int fd) {
        requirePositive(errno);
        return add(new Injection(call, -errno, times, fd, false));
    }

    /**
     * Makes the next {@code times} calls of {@code call} on {@code fd} for real, then reports
     * {@code errno} in place of their result.
     *
     * @throws IllegalArgumentException for calls that create a descriptor (the new one would leak)
     */
    public Injection injectAfterCall(Call call, int errno, int times, int fd) {
        if (call.createsDescriptor()) {
            throw new IllegalArgumentException(call.callName() + " creates a descriptor: replacing its result would leak it");
        }
        requirePositive(errno);
        return add(new Injection(call, -errno, times, fd, true));
    }

    /**
     * Makes the next {@code times} calls of {@code call} on {@code fd} return {@code result}
     * without making them. Meant for results that claim nothing happened in the kernel, above
     * all recv returning 0: what Linux answers on a reset connection once it has reported
     * ECONNRESET (or EPIPE) once, so that a test can inject a reset that the socket then sees
     * the way it would see a real one.
     *
     * @throws IllegalArgumentException for calls that create a descriptor
     */
    public Injection injectResult(Call call, long result, int times, int fd) {
        if (call.createsDescriptor()) {
            throw new IllegalArgumentException(call.callName() + " creates a descriptor: inject an errno instead");
        }
        return add(new Injection(call, result, times, fd, false));
    }

    /**
     * Makes the next {@code times} calls of {@code call} on {@code fd} throw {@code thrown} instead
     * of being made: what a downcall that fails to run looks like (an Error such as
     * OutOfMemoryError, or the exception of a bug), for tests of cleanup paths.
     *
     * @param thrown a RuntimeException or an Error (the methods declare no checked exception)
     */
    public Injection injectThrow(Call call, Throwable thrown, int times, int fd) {
        if (thrown instanceof RuntimeException r) {
            return add(new Injection(call, 0, r, null, times, fd, false));
        }
        if (thrown instanceof Error e) {
            return add(new Injection(call, 0, null, e, times, fd, false));
        }
        throw new IllegalArgumentException("a syscall can throw only unchecked exceptions: " + thrown);
    }

    private static void requirePositive(int errno) {
        if (errno <= 0) {
            throw new IllegalArgumentException("errno must be positive: " + errno);
        }
    }

    private Injection add(Injection injection) {
        if (injection.remaining.get() < 1) {
            throw new IllegalArgumentException("times must be at least 1: " + injection.remaining.get());
        }
        injections.add(injection);
        return injection;
    }

    /** Withdraws every injection not yet fired (counts are kept). */
    public void clearInjections() {
        injections.forEach(Injection::cancel);
        injections.clear();
    }

    /** {@return how many times {@code call} has been made through this instance, failed ones included} */
    public long calls(Call call) {
        return counts.get(call.ordinal());
    }

    private Injection claim(Call call, int fd) {
        for (Injection injection : injections) {
            if (injection.claim(call, fd)) {
                if (injection.remaining() == 0) {
                    injections.remove(injection);
                }
                return injection;
            }
        }
        return null;
    }

    private int intCall(Call call, int fd, IntSupplier real) {
        counts.incrementAndGet(call.ordinal());
        Injection injection = injections.isEmpty() ? null : claim(call, fd);
        if (injection == null) {
            return real.getAsInt();
        }
        injection.throwIfThrowing();
        if (injection.afterCall) {
            real.getAsInt();
        }
        return (int) injection.result;
    }

    private long longCall(Call call, int fd, LongSupplier real) {
        return longCall(call, fd, fd, real);
    }

    /** A call on two descriptors (splice): an injection for either fires. */
    private long longCall(Call call, int fd, int otherFd, LongSupplier real) {
        counts.incrementAndGet(call.ordinal());
        Injection injection = injections.isEmpty() ? null : claim(call, fd);
        if (injection == null && otherFd != fd && !injections.isEmpty()) {
            injection = claim(call, otherFd);
        }
        if (injection == null) {
            return real.getAsLong();
        }
        injection.throwIfThrowing();
        if (injection.afterCall) {
            real.getAsLong();
        }
        return injection.result;
    }

    @Override
    public int socket(int domain, int type, int protocol) {
        return intCall(Call.SOCKET, ANY_FD, () -> delegate.socket(domain, type, protocol));
    }

    @Override
    public int connect(int fd, MemorySegment address, int length) {
        return intCall(Call.CONNECT, fd, () -> delegate.connect(fd, address, length));
    }

    @Override
    public int bind(int fd, MemorySegment address, int length) {
        return intCall(Call.BIND, fd, () -> delegate.bind(fd, address, length));
    }

    @Override
    public int listen(int fd, int backlog) {
        return intCall(Call.LISTEN, fd, () -> delegate.listen(fd, backlog));
    }

    @Override
    public int accept4(int fd, MemorySegment address, MemorySegment lengthInOut, int flags) {
        return intCall(Call.ACCEPT4, fd, () -> delegate.accept4(fd, address, lengthInOut, flags));
    }

    @Override
    public int getsockopt(int fd, int level, int option, MemorySegment value, MemorySegment lengthInOut) {
        return intCall(Call.GETSOCKOPT, fd, () -> delegate.getsockopt(fd, level, option, value, lengthInOut));
    }

    @Override
    public int setsockopt(int fd, int level, int option, MemorySegment value, int length) {
        return intCall(Call.SETSOCKOPT, fd, () -> delegate.setsockopt(fd, level, option, value, length));
    }

    @Override
    public int getsockname(int fd, MemorySegment address, MemorySegment lengthInOut) {
        return intCall(Call.GETSOCKNAME, fd, () -> delegate.getsockname(fd, address, lengthInOut));
    }

    @Override
    public int getpeername(int fd, MemorySegment address, MemorySegment lengthInOut) {
        return intCall(Call.GETPEERNAME, fd, () -> delegate.getpeername(fd, address, lengthInOut));
    }

    @Override
    public int shutdown(int fd, int how) {
        return intCall(Call.SHUTDOWN, fd, () -> delegate.shutdown(fd, how));
    }

    @Override
    public int close(int fd) {
        return intCall(Call.CLOSE, fd, () -> delegate.close(fd));
    }

    @Override
    public long recv(int fd, MemorySegment buffer) {
        return longCall(Call.RECV, fd, () -> delegate.recv(fd, buffer));
    }

    @Override
    public long send(int fd, MemorySegment buffer) {
        return longCall(Call.SEND, fd, () -> delegate.send(fd, buffer));
    }

    @Override
    public int ioctl(int fd, long request, MemorySegment intOut) {
        return intCall(Call.IOCTL, fd, () -> delegate.ioctl(fd, request, intOut));
    }

    @Override
    public int fcntl(int fd, int command) {
        return intCall(Call.FCNTL, fd, () -> delegate.fcntl(fd, command));
    }

    @Override
    public int epollCreate1(int flags) {
        return intCall(Call.EPOLL_CREATE1, ANY_FD, () -> delegate.epollCreate1(flags));
    }

    @Override
    public int epollCtl(int epfd, int op, int fd, MemorySegment event) {
        return intCall(Call.EPOLL_CTL, fd, () -> delegate.epollCtl(epfd, op, fd, event));
    }

    @Override
    public int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMillis) {
        return intCall(Call.EPOLL_WAIT, epfd, () -> delegate.epollWait(epfd, events, maxEvents, timeoutMillis));
    }

    @Override
    public long writev(int fd, MemorySegment iov, int count) {
        return longCall(Call.WRITEV, fd, () -> delegate.writev(fd, iov, count));
    }

    @Override
    public long readv(int fd, MemorySegment iov, int count) {
        return longCall(Call.READV, fd, () -> delegate.readv(fd, iov, count));
    }

    /** Counted and injected by the socket, {@code outFd}. */
    @Override
    public long sendfile(int outFd, int inFd, MemorySegment offset, long count) {
        return longCall(Call.SENDFILE, outFd, () -> delegate.sendfile(outFd, inFd, offset, count));
    }

    /** Counted and injected by either end: an injection for a descriptor fires if it is {@code fdIn} or {@code fdOut}. */
    @Override
    public long splice(int fdIn, int fdOut, long length, int flags) {
        return longCall(Call.SPLICE, fdIn, fdOut, () -> delegate.splice(fdIn, fdOut, length, flags));
    }

    @Override
    public int pipe2(MemorySegment fds, int flags) {
        return intCall(Call.PIPE2, ANY_FD, () -> delegate.pipe2(fds, flags));
    }

    @Override
    public int open(MemorySegment path, int flags) {
        return intCall(Call.OPEN, ANY_FD, () -> delegate.open(path, flags));
    }
}
