package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.internal.poll.SocketDescriptor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * setsockopt, getsockopt and ioctl on a {@link SocketDescriptor}: the option levels and names
 * the library uses, each call holding a reference to the descriptor so that it can never reach a
 * reused number.
 */
public final class SocketOptions {

    public static final int SOL_SOCKET = Libc.SOL_SOCKET();
    public static final int IPPROTO_TCP = Libc.IPPROTO_TCP();
    public static final int IPPROTO_IPV6 = Libc.IPPROTO_IPV6();
    public static final int SO_REUSEADDR = Libc.SO_REUSEADDR();
    public static final int SO_REUSEPORT = Libc.SO_REUSEPORT();
    public static final int SO_KEEPALIVE = Libc.SO_KEEPALIVE();
    public static final int SO_RCVBUF = Libc.SO_RCVBUF();
    public static final int SO_SNDBUF = Libc.SO_SNDBUF();
    public static final int SO_ERROR = Libc.SO_ERROR();
    public static final int TCP_NODELAY = Libc.TCP_NODELAY();
    public static final int IPV6_V6ONLY = Libc.IPV6_V6ONLY();
    private static final int SO_LINGER = Libc.SO_LINGER();
    private static final long SIOCOUTQ = Libc.SIOCOUTQ();
    private static final long SIOCINQ = Libc.SIOCINQ();
    private static final int F_GETFD = Libc.F_GETFD();
    private static final int FD_CLOEXEC = Libc.FD_CLOEXEC();

    /** SO_LINGER as the kernel holds it: {@code enabled} with a timeout in seconds. */
    public record Linger(boolean enabled, int seconds) {
        /** {l_onoff = 1, l_linger = 0}: close(2) sends RST (RFC 9293 ABORT). */
        public static final Linger ABORT = new Linger(true, 0);
        /** {l_onoff = 0}: close(2) sends FIN after queued data. */
        public static final Linger OFF = new Linger(false, 0);
    }

    private final Syscalls syscalls;
    private final SocketDescriptor descriptor;

    SocketOptions(Syscalls syscalls, SocketDescriptor descriptor) {
        this.syscalls = syscalls;
        this.descriptor = descriptor;
    }

    /** setsockopt with an int value. */
    public void setInt(int level, int option, int value) throws IOException {
        int fd = descriptor.acquire();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocateFrom(ValueLayout.JAVA_INT, value);
            check("setsockopt", syscalls.setsockopt(fd, level, option, v, Integer.BYTES));
        } finally {
            descriptor.release();
        }
    }

    /** getsockopt with an int value. */
    public int getInt(int level, int option) throws IOException {
        int fd = descriptor.acquire();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment length = arena.allocateFrom(ValueLayout.JAVA_INT, Integer.BYTES);
            check("getsockopt", syscalls.getsockopt(fd, level, option, v, length));
            return v.get(ValueLayout.JAVA_INT, 0);
        } finally {
            descriptor.release();
        }
    }

    /**
     * {@code struct linger}: its size, alignment and its two int fields' offsets, as constants
     * equal to jextract's layout (checked by {@code LingerLayoutTest}; AbiProbeTest checks that
     * layout against C). Reading them from jextract's {@code linger} class ran its initialiser,
     * which makes a var handle per field, in every program's first connection.
     */
    static final long LINGER_SIZE = 8, LINGER_ALIGNMENT = 4, L_ONOFF = 0, L_LINGER = 4;

    /** Sets SO_LINGER. tcpscope only ever uses {@link Linger#ABORT} and {@link Linger#OFF}. */
    public void setLinger(Linger value) throws IOException {
        int fd = descriptor.acquire();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment l = arena.allocate(LINGER_SIZE, LINGER_ALIGNMENT);
            l.set(ValueLayout.JAVA_INT, L_ONOFF, value.enabled() ? 1 : 0);
            l.set(ValueLayout.JAVA_INT, L_LINGER, value.seconds());
            check("setsockopt(SO_LINGER)", syscalls.setsockopt(fd, SOL_SOCKET, SO_LINGER, l, (int) l.byteSize()));
        } finally {
            descriptor.release();
        }
    }

    /** {@return SO_LINGER as the kernel reports it} */
    public Linger getLinger() throws IOException {
        int fd = descriptor.acquire();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment l = arena.allocate(LINGER_SIZE, LINGER_ALIGNMENT);
            MemorySegment length = arena.allocateFrom(ValueLayout.JAVA_INT, (int) l.byteSize());
            check("getsockopt(SO_LINGER)", syscalls.getsockopt(fd, SOL_SOCKET, SO_LINGER, l, length));
            return new Linger(l.get(ValueLayout.JAVA_INT, L_ONOFF) != 0, l.get(ValueLayout.JAVA_INT, L_LINGER));
        } finally {
            descriptor.release();
        }
    }

    /** {@return SIOCOUTQ: bytes written but not yet acknowledged by the peer's TCP (unsent included)} */
    public int unacknowledged() throws IOException {
        return ioctlInt("ioctl(SIOCOUTQ)", SIOCOUTQ);
    }

    /** {@return SIOCINQ: bytes received and not yet read} */
    public int unread() throws IOException {
        return ioctlInt("ioctl(SIOCINQ)", SIOCINQ);
    }

    private int ioctlInt(String call, long request) throws IOException {
        int fd = descriptor.acquire();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
            check(call, syscalls.ioctl(fd, request, v));
            return v.get(ValueLayout.JAVA_INT, 0);
        } finally {
            descriptor.release();
        }
    }

    /** {@return whether the descriptor has FD_CLOEXEC set} */
    public boolean isCloseOnExec() throws IOException {
        int fd = descriptor.acquire();
        try {
            int flags = syscalls.fcntl(fd, F_GETFD);
            check("fcntl(F_GETFD)", flags);
            return (flags & FD_CLOEXEC) != 0;
        } finally {
            descriptor.release();
        }
    }

    private static void check(String call, int result) throws IOException {
        if (result < 0) {
            throw Errno.exception(call, -result, null);
        }
    }
}
