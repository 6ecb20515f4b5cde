package dev.tcpscope.internal.os;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static dev.tcpscope.internal.ffi.x86_64.Libc.C_INT;
import static dev.tcpscope.internal.ffi.x86_64.Libc.C_LONG;
import static dev.tcpscope.internal.ffi.x86_64.Libc.C_POINTER;

/**
 * The C functions tcpscope calls with a fixed signature: each one's symbol and the descriptor
 * jextract generated for it, linked here with errno captured.
 *
 * <p><b>Why the descriptors are spelled out instead of read from jextract's {@code Libc}.</b> Each
 * of jextract's per-function holder classes ({@code Libc.socket$descriptor()} and the like) links
 * a handle of its own, without errno capture, when it is first touched; tcpscope never calls that
 * handle, since it must capture errno. Reading the descriptor through it linked every function
 * twice, and linking is almost all of what a program pays for its first connection (12-25 ms for
 * each new function shape on this machine; bench/README.md, "First connection"). So the
 * descriptors are here, and {@code LibcFunctionTest} checks each against jextract's, which are
 * generated from the system headers' prototypes ({@code AbiProbeTest} checks the C types' sizes
 * they rest on): a descriptor spelled wrong fails the build's tests, not a call.
 *
 * <p>The symbols come from the linker's default lookup (the C library), where jextract's lookup
 * also finds them: no library of tcpscope's own is loaded. The variadic functions (ioctl, fcntl,
 * open) are not here: jextract gives them no fixed descriptor, and their callers spell the shape
 * they call.
 */
enum LibcFunction {
    SOCKET("socket", FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT)),
    CONNECT("connect", FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_INT)),
    BIND("bind", FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_INT)),
    LISTEN("listen", FunctionDescriptor.of(C_INT, C_INT, C_INT)),
    ACCEPT4("accept4", FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_POINTER, C_INT)),
    GETSOCKOPT("getsockopt", FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT, C_POINTER, C_POINTER)),
    SETSOCKOPT("setsockopt", FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT, C_POINTER, C_INT)),
    GETSOCKNAME("getsockname", FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_POINTER)),
    GETPEERNAME("getpeername", FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_POINTER)),
    SHUTDOWN("shutdown", FunctionDescriptor.of(C_INT, C_INT, C_INT)),
    CLOSE("close", FunctionDescriptor.of(C_INT, C_INT)),
    RECV("recv", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG, C_INT)),
    SEND("send", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG, C_INT)),
    EPOLL_CREATE1("epoll_create1", FunctionDescriptor.of(C_INT, C_INT)),
    EPOLL_CTL("epoll_ctl", FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT, C_POINTER)),
    EPOLL_WAIT("epoll_wait", FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_INT, C_INT)),
    WRITEV("writev", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_INT)),
    READV("readv", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_INT)),
    SENDFILE("sendfile", FunctionDescriptor.of(C_LONG, C_INT, C_INT, C_POINTER, C_LONG)),
    SPLICE("splice", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_INT, C_POINTER, C_LONG, C_INT)),
    PIPE2("pipe2", FunctionDescriptor.of(C_INT, C_POINTER, C_INT)),
    /** Linked without errno capture, by {@link KernelMachine}: it fails only for a bad pointer. */
    UNAME("uname", FunctionDescriptor.of(C_INT, C_POINTER));

    private static final Linker LINKER = Linker.nativeLinker();

    private final String symbol;
    private final FunctionDescriptor descriptor;

    LibcFunction(String symbol, FunctionDescriptor descriptor) {
        this.symbol = symbol;
        this.descriptor = descriptor;
    }

    /** {@return the C function's name} */
    String symbol() {
        return symbol;
    }

    /** {@return its descriptor, as jextract generated it} */
    FunctionDescriptor descriptor() {
        return descriptor;
    }

    /** {@return the function's address in the C library} */
    MemorySegment address() {
        return LINKER.defaultLookup().findOrThrow(symbol);
    }

    /** {@return a handle whose first argument is the errno capture segment} */
    MethodHandle link(Linker.Option... extra) {
        return link(address(), descriptor, extra);
    }

    /** {@return a handle to {@code address}, whose first argument is the errno capture segment} */
    static MethodHandle link(MemorySegment address, FunctionDescriptor descriptor, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(address, descriptor, options);
    }
}
