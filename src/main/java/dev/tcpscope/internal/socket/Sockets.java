package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.SocketAddresses;
import dev.tcpscope.internal.os.Syscalls;
import dev.tcpscope.internal.poll.SocketDescriptor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;

/** The calls listening and connected sockets share: bind(2) and getsockname(2). */
final class Sockets {

    private Sockets() {}

    static void bind(Syscalls syscalls, SocketDescriptor descriptor, int family, InetSocketAddress local)
            throws IOException {
        int fd = descriptor.acquire();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = SocketAddresses.encode(local, family, arena);
            int result = syscalls.bind(fd, sa, (int) sa.byteSize());
            if (result < 0) {
                throw Errno.exception("bind", -result, "to " + local);
            }
        } finally {
            descriptor.release();
        }
    }

    static InetSocketAddress localAddress(Syscalls syscalls, SocketDescriptor descriptor) throws IOException {
        int fd = descriptor.acquire();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocate(SocketAddresses.STORAGE_SIZE, 8);
            MemorySegment length = arena.allocateFrom(ValueLayout.JAVA_INT, (int) SocketAddresses.STORAGE_SIZE);
            int result = syscalls.getsockname(fd, sa, length);
            if (result < 0) {
                throw Errno.exception("getsockname", -result, null);
            }
            return SocketAddresses.decode(sa);
        } finally {
            descriptor.release();
        }
    }
}
