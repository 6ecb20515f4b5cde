package dev.tcpscope.internal.os;

import dev.tcpscope.internal.ffi.x86_64.Libc;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;

/**
 * Converts between {@link InetSocketAddress} and {@code struct sockaddr_in} /
 * {@code sockaddr_in6}. Ports and IPv4 addresses are in network byte order in the structs.
 *
 * <p>The sizes and field offsets are constants, each equal to the generated bindings' (checked by
 * {@code LibcFunctionTest}; AbiProbeTest checks the bindings against C on x86_64 and aarch64):
 * reading them from jextract's {@code sockaddr_in} and {@code sockaddr_in6} classes ran those
 * classes' initialisers, which make a var handle per field and array (20-25 ms of a program's
 * first connection).
 */
public final class SocketAddresses {

    public static final int AF_INET = Libc.AF_INET();
    public static final int AF_INET6 = Libc.AF_INET6();

    /**
     * Size of {@code struct sockaddr_storage}: large enough for any address we decode. 128 on
     * every Linux architecture; a constant rather than jextract's {@code sockaddr_storage.layout()},
     * whose class initializer makes var handles for its padding arrays (about 20 ms of a first
     * connection). LibcFunctionTest checks it against that layout.
     */
    public static final long STORAGE_SIZE = 128;

    /** {@code sizeof(struct sockaddr_in)}, its alignment, and its fields' offsets. */
    static final long IN_SIZE = 16, IN_ALIGNMENT = 4, IN_PORT = 2, IN_ADDR = 4;

    /** {@code sizeof(struct sockaddr_in6)}, its alignment, and its fields' offsets. */
    static final long IN6_SIZE = 28, IN6_ALIGNMENT = 4, IN6_PORT = 2, IN6_ADDR = 8, IN6_SCOPE_ID = 24;

    /** Offset of {@code sa_family} in every sockaddr. */
    static final long FAMILY = 0;

    private static final ValueLayout.OfShort NET_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt NATIVE_INT = ValueLayout.JAVA_INT_UNALIGNED;

    private SocketAddresses() {}

    /** {@return the address family (AF_INET or AF_INET6) that can reach {@code address}} */
    public static int family(InetAddress address) {
        return address instanceof Inet6Address ? AF_INET6 : AF_INET;
    }

    /**
     * Writes {@code address} as a sockaddr of the family {@code family} (an IPv4 address in an
     * AF_INET6 socket becomes IPv4-mapped, ::ffff:a.b.c.d).
     *
     * @return the sockaddr, whose byte size is the length to pass to the call
     */
    public static MemorySegment encode(InetSocketAddress address, int family, SegmentAllocator allocator) {
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("address is unresolved: " + address);
        }
        InetAddress ip = address.getAddress();
        int port = address.getPort();
        if (family == AF_INET) {
            if (!(ip instanceof Inet4Address)) {
                throw new IllegalArgumentException("an IPv4 socket cannot use the IPv6 address " + ip);
            }
            MemorySegment sa = allocator.allocate(IN_SIZE, IN_ALIGNMENT);
            sa.set(ValueLayout.JAVA_SHORT_UNALIGNED, FAMILY, (short) AF_INET);
            sa.set(NET_SHORT, IN_PORT, (short) port);
            MemorySegment.copy(ip.getAddress(), 0, sa, ValueLayout.JAVA_BYTE, IN_ADDR, 4);
            return sa;
        }
        MemorySegment sa = allocator.allocate(IN6_SIZE, IN6_ALIGNMENT);
        sa.set(ValueLayout.JAVA_SHORT_UNALIGNED, FAMILY, (short) AF_INET6);
        sa.set(NET_SHORT, IN6_PORT, (short) port);
        byte[] bytes;
        if (ip instanceof Inet4Address) {
            bytes = new byte[16];
            bytes[10] = (byte) 0xff;
            bytes[11] = (byte) 0xff;
            System.arraycopy(ip.getAddress(), 0, bytes, 12, 4);
        } else {
            bytes = ip.getAddress();
            if (ip instanceof Inet6Address v6 && v6.getScopeId() != 0) {
                sa.set(NATIVE_INT, IN6_SCOPE_ID, v6.getScopeId());
            }
        }
        MemorySegment.copy(bytes, 0, sa, ValueLayout.JAVA_BYTE, IN6_ADDR, 16);
        return sa;
    }

    /** Reads a sockaddr_in or sockaddr_in6 written by the kernel (accept4, getsockname). */
    public static InetSocketAddress decode(MemorySegment sa) {
        int family = Short.toUnsignedInt(sa.get(ValueLayout.JAVA_SHORT_UNALIGNED, FAMILY));
        try {
            if (family == AF_INET) {
                int port = Short.toUnsignedInt(sa.get(NET_SHORT, IN_PORT));
                byte[] ip = new byte[4];
                MemorySegment.copy(sa, ValueLayout.JAVA_BYTE, IN_ADDR, ip, 0, 4);
                return new InetSocketAddress(InetAddress.getByAddress(ip), port);
            }
            if (family == AF_INET6) {
                int port = Short.toUnsignedInt(sa.get(NET_SHORT, IN6_PORT));
                byte[] ip = new byte[16];
                MemorySegment.copy(sa, ValueLayout.JAVA_BYTE, IN6_ADDR, ip, 0, 16);
                int scope = sa.get(NATIVE_INT, IN6_SCOPE_ID);
                // getByAddress turns an IPv4-mapped address back into an Inet4Address.
                InetAddress address = scope != 0 && !isV4Mapped(ip)
                        ? Inet6Address.getByAddress(null, ip, scope)
                        : InetAddress.getByAddress(ip);
                return new InetSocketAddress(address, port);
            }
        } catch (UnknownHostException e) {
            throw new IllegalStateException("kernel returned a malformed address", e);
        }
        throw new IllegalStateException("unexpected address family " + family);
    }

    private static boolean isV4Mapped(byte[] ip) {
        for (int i = 0; i < 10; i++) {
            if (ip[i] != 0) {
                return false;
            }
        }
        return ip[10] == (byte) 0xff && ip[11] == (byte) 0xff;
    }
}
