package dev.tcpscope.internal.os;

import dev.tcpscope.internal.ffi.x86_64.Libc;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static dev.tcpscope.internal.os.LinuxSyscalls.CALL_STATES;
import static dev.tcpscope.internal.os.LinuxSyscalls.failure;
import static dev.tcpscope.internal.os.LinuxSyscalls.result;

/**
 * The vectored and zero-copy calls of {@link LinuxSyscalls} (writev, readv, sendfile, splice,
 * pipe2, open), linked the same way: from the jextract bindings, with errno captured, each call
 * returning its result or {@code -errno}. None is linked {@code critical}: every pointer they take
 * is native memory (the iovec array and what it points to, the offset cell, the path), so a
 * safepoint never waits for them.
 */
final class LinuxTransferCalls {

    private static final MethodHandle WRITEV, READV, SENDFILE, SPLICE, PIPE2, OPEN;

    static {
        WRITEV = LibcFunction.WRITEV.link();
        READV = LibcFunction.READV.link();
        SENDFILE = LibcFunction.SENDFILE.link();
        SPLICE = LibcFunction.SPLICE.link();
        PIPE2 = LibcFunction.PIPE2.link();
        // open(const char *, int, ...) is variadic: the shape called here has no mode argument.
        OPEN = LibcFunction.link(Libc.open.address(), FunctionDescriptor.of(Libc.C_INT, Libc.C_POINTER, Libc.C_INT),
                Linker.Option.firstVariadicArg(2));
    }

    private LinuxTransferCalls() {}

    static long writev(int fd, MemorySegment iov, int count) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((long) WRITEV.invokeExact(state, fd, iov, count), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    static long readv(int fd, MemorySegment iov, int count) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((long) READV.invokeExact(state, fd, iov, count), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    static long sendfile(int outFd, int inFd, MemorySegment offset, long count) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((long) SENDFILE.invokeExact(state, outFd, inFd, offset, count), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    static long splice(int fdIn, int fdOut, long length, int flags) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((long) SPLICE.invokeExact(state, fdIn, MemorySegment.NULL, fdOut, MemorySegment.NULL,
                    length, flags), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    static int pipe2(MemorySegment fds, int flags) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) PIPE2.invokeExact(state, fds, flags), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }

    static int open(MemorySegment path, int flags) {
        MemorySegment state = CALL_STATES.claim();
        try {
            return result((int) OPEN.invokeExact(state, path, flags), state);
        } catch (Throwable t) {
            throw failure(t);
        } finally {
            CALL_STATES.release(state);
        }
    }
}
