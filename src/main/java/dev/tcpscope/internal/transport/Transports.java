package dev.tcpscope.internal.transport;

import dev.tcpscope.internal.os.Platform;
import dev.tcpscope.internal.portable.PortableTransport;
import dev.tcpscope.internal.socket.NativeTransport;

/**
 * Which transport new connections and listeners use: the one {@link Platform#selected()} chose
 * for this JVM, once (native on Linux x86_64 and aarch64, portable elsewhere or when forced with
 * {@code -Dtcpscope.transport=portable}; the rules are {@code PlatformSelection}'s).
 *
 * <p>The native transport's classes are loaded only when it is chosen, so that no native binding
 * is linked, and no layout chosen, on a JVM that runs the portable one.
 */
public final class Transports {

    private Transports() {}

    /**
     * {@return the transport this JVM uses}
     *
     * @throws UnsupportedOperationException tcpscope refuses to start here (the same message on
     *         every call; see {@code PlatformSelection})
     */
    public static Transport current() {
        return switch (Platform.selected().kind()) {
            case NATIVE -> NativeTransport.INSTANCE;
            case PORTABLE -> PortableTransport.INSTANCE;
        };
    }
}
