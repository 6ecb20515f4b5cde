package dev.tcpscope.internal.os;

import dev.tcpscope.internal.ffi.x86_64.Libc;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * {@link Syscalls} on Linux through the jextract bindings in {@code internal.ffi.x86_64}.
 *
 * <p>jextract links every function without errno capture; each call here is linked from its
 * symbol and jextract's descriptor ({@link LibcFunction}) with {@code captureCallState("errno")},
 * since the JVM may itself change errno between a downcall and any later read of it. {@code recv} and
 * {@code send} are linked twice: {@code critical} for heap segments (a {@code byte[]} is passed
 * without copying; on non-blocking sockets the call returns at once), at most
 * {@link #MAX_CRITICAL_BYTES} per call, and plain for native segments.
 */
public final class LinuxSyscalls implements Syscalls {

    /** The one instance; the class refuses to load on a platform without bindings. */
    public static final LinuxSyscalls INSTANCE;

    static final VarHandle ERRNO;
    static final CallStatePool CALL_STATES;

    /** Every connection's calls, linked when the class is initialised. */
    private static final MethodHandle SOCKET, CONNECT, GETSOCKOPT, SETSOCKOPT, GETSOCKNAME, GETPEERNAME,
            SHUTDOWN, CLOSE, RECV, SEND, RECV_CRITICAL, SEND_CRITICAL, IOCTL, EPOLL_CREATE1, EPOLL_CTL, EPOLL_WAIT;

    /**
     * A listener's calls, linked on first use: a program that only connects never pays for them
     * (each new function shape costs 12-25 ms of its first connection to link; see LibcFunction).
     * Static finals of a holder class, so they are constants to the JIT all the same.
     */
    private static final class ListenerCalls {
        static final MethodHandle BIND = LibcFunction.BIND.link();
        static final MethodHandle LISTEN = LibcFunction.LISTEN.link();
        static final MethodHandle ACCEPT4 = LibcFunction.ACCEPT4.link();
    }

    /** fcntl, asked only by an option query: linked on first use, as {@link ListenerCalls}. */
    private static final class FcntlCall {
        // fcntl(int, int, ...) is variadic: jextract offers its address but no fixed descriptor,
        // so the shape called here (no third argument) is spelled out.
        static final MethodHandle FCNTL = LibcFunction.link(Libc.fcntl.address(),
                FunctionDescriptor.of(Libc.C_INT, Libc.C_INT, Libc.C_INT),
                Linker.Option.firstVariadicArg(2));
    }

    /**
     * The most bytes one critical recv or send moves to or from a heap segment. A critical
     * downcall keeps the thread in the Java state for the whole system call, so a safepoint (a
     * garbage collection) waits for it; a loopback send also does the receiver's protocol work
     * inside it. Measured here, an unbounded 4-16 MiB critical send took 0.2 ms at the median and
     * up to 12-29 ms; 128 KiB took 24 us at the median. So a larger transfer is several calls,
     * each a short count that the socket layer already loops on (one FatalErrorRecord slot per
     * call), as the JDK's own {@code NioSocketImpl} bounds its byte[] reads and writes to 128 KiB.
     * Native segments take a non-critical link and are not bounded: the thread is in the native
     * state during the call, and a safepoint does not wait for it.
     */
    static final long MAX_CRITICAL_BYTES = MAX_HEAP_BYTES_PER_CALL;

    private static final int MSG_NOSIGNAL;

    static {
        Platform.requireSupported();
        var stateLayout = Linker.Option.captureStateLayout();
        ERRNO = stateLayout.varHandle(groupElement("errno"));
        // Capture segments lent out per call, not one per thread: see CallStatePool.
        CALL_STATES = new CallStatePool(stateLayout, Math.max(64, 4 * Runtime.getRuntime().availableProcessors()));

        SOCKET = LibcFunction.SOCKET.link();
        CONNECT = LibcFunction.CONNECT.link();
        GETSOCKOPT = LibcFunction.GETSOCKOPT.link();
        SETSOCKOPT = LibcFunction.SETSOCKOPT.link();
        GETSOCKNAME = LibcFunction.GETSOCKNAME.link();
        GETPEERNAME = LibcFunction.GETPEERNAME.link();
        SHUTDOWN = LibcFunction.SHUTDOWN.link();
        CLOSE = LibcFunction.CLOSE.link();
        RECV = LibcFunction.RECV.link();
        SEND = LibcFunction.SEND.link();
        RECV_CRITICAL = LibcFunction.RECV.link(Linker.Option.critical(true));
        SEND_CRITICAL = LibcFunction.SEND.link(Linker.Option.critical(true));
        // ioctl(int, unsigned long, ...) is variadic: jextract offers its address but no fixed
        // descriptor, so the shape called here is spelled out.
        IOCTL = LibcFunction.link(Libc.ioctl.address(),
                FunctionDescriptor.of(Libc.C_INT, Libc.C_INT, Libc.C_LONG, Libc.C_POINTER),
                Linker.Option.firstVariadicArg(2));
        EPOLL_CREATE1 = LibcFunction.EPOLL_CREATE1.link();
        EPOLL_CTL = LibcFunction.EPOLL_CTL.link();
        EPOLL_WAIT = LibcFunction.EPOLL_WAIT.link();
        MSG_NOSIGNAL = Libc.MSG_NOSIGNAL();
        INSTANCE = new LinuxSyscalls();
    }

    private LinuxSyscalls() {}

    static int result(int value, MemorySegment state) {
        return value >= 0 ? value : -(int) ERRNO.get(state, 0L);
    }

    static long result(long value, MemorySegment state) {
        return value >= 0 ? value : -(int) ERRNO.get(state, 0L);
    }

    /**
     * What a downcall that threw means. A caller's mistake reaches the caller as the exception
     * the JDK raised: a segment whose arena is closed ({@link IllegalStateException}) or a
     * confined segment used from another thread ({@link WrongThreadException}), both reachable
     * from the public API through {@code recv} and {@code send}; no system call was made. An
     * {@link Error} (out of memory, stack overflow) passes unchanged. Anything else (a wrong
     * method type, a heap segment passed to a call not linked critical) is this library's own
     * impossibility: an {@link AssertionError}.
     *
     * @return the AssertionError to throw; the other cases are thrown from here
     */
    static AssertionError failure(Throwable t) {
        if (t instanceof IllegalStateException || t instanceof WrongThreadException) {
            throw (RuntimeException) t;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new AssertionError("downcall failed to invoke: " + t, t);
    }

    @Override
    public int socket(int domain, int type, int protocol) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) SOCKET.invokeExact(state, domain, type, protocol), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public int connect(int fd, MemorySegment address, int length) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) CONNECT.invokeExact(state, fd, address, length), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public int bind(int fd, MemorySegment address, int length) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) ListenerCalls.BIND.invokeExact(state, fd, address, length), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public int listen(int fd, int backlog) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) ListenerCalls.LISTEN.invokeExact(state, fd, backlog), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public int accept4(int fd, MemorySegment address, MemorySegment lengthInOut, int flags) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) ListenerCalls.ACCEPT4.invokeExact(state, fd, address, lengthInOut, flags), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public int getsockopt(int fd, int level, int option, MemorySegment value, MemorySegment lengthInOut) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) GETSOCKOPT.invokeExact(state, fd, level, option, value, lengthInOut), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public int setsockopt(int fd, int level, int option, MemorySegment value, int length) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) SETSOCKOPT.invokeExact(state, fd, level, option, value, length), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public int getsockname(int fd, MemorySegment address, MemorySegment lengthInOut) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) GETSOCKNAME.invokeExact(state, fd, address, lengthInOut), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public int getpeername(int fd, MemorySegment address, MemorySegment lengthInOut) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) GETPEERNAME.invokeExact(state, fd, address, lengthInOut), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public int shutdown(int fd, int how) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) SHUTDOWN.invokeExact(state, fd, how), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public int close(int fd) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) CLOSE.invokeExact(state, fd), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public long recv(int fd, MemorySegment buffer) {
        MemorySegment state = CALL_STATES.claim();
        try {
            if (buffer.isNative()) {
                return result((long) RECV.invokeExact(state, fd, buffer, buffer.byteSize(), 0), state);
            }
            long size = Syscalls.bytesPerCall(buffer); // at most MAX_CRITICAL_BYTES of a heap segment
            return result((long) RECV_CRITICAL.invokeExact(state, fd, buffer, size, 0), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public long send(int fd, MemorySegment buffer) {
        MemorySegment state = CALL_STATES.claim();
        try {
            if (buffer.isNative()) {
                return result((long) SEND.invokeExact(state, fd, buffer, buffer.byteSize(), MSG_NOSIGNAL), state);
            }
            long size = Syscalls.bytesPerCall(buffer); // at most MAX_CRITICAL_BYTES of a heap segment
            return result((long) SEND_CRITICAL.invokeExact(state, fd, buffer, size, MSG_NOSIGNAL), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public int ioctl(int fd, long request, MemorySegment intOut) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) IOCTL.invokeExact(state, fd, request, intOut), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public int fcntl(int fd, int command) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) FcntlCall.FCNTL.invokeExact(state, fd, command), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public int epollCreate1(int flags) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) EPOLL_CREATE1.invokeExact(state, flags), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public int epollCtl(int epfd, int op, int fd, MemorySegment event) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) EPOLL_CTL.invokeExact(state, epfd, op, fd, event), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    @Override
    public int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMillis) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) EPOLL_WAIT.invokeExact(state, epfd, events, maxEvents, timeoutMillis), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    // The vectored and zero-copy calls live in LinuxTransferCalls (one concern per file).

    @Override
    public long writev(int fd, MemorySegment iov, int count) {
        return LinuxTransferCalls.writev(fd, iov, count);
    }

    @Override
    public long readv(int fd, MemorySegment iov, int count) {
        return LinuxTransferCalls.readv(fd, iov, count);
    }

    @Override
    public long sendfile(int outFd, int inFd, MemorySegment offset, long count) {
        return LinuxTransferCalls.sendfile(outFd, inFd, offset, count);
    }

    @Override
    public long splice(int fdIn, int fdOut, long length, int flags) {
        return LinuxTransferCalls.splice(fdIn, fdOut, length, flags);
    }

    @Override
    public int pipe2(MemorySegment fds, int flags) {
        return LinuxTransferCalls.pipe2(fds, flags);
    }

    @Override
    public int open(MemorySegment path, int flags) {
        return LinuxTransferCalls.open(path, flags);
    }
}
