package dev.tcpscope.internal.transport;

import dev.tcpscope.internal.os.Platform;
import dev.tcpscope.internal.portable.PortableTransport;
import dev.tcpscope.internal.socket.NativeTransport;

/**
 * Which transport new connections and listeners use.
 *
 * <p>Native where bindings exist ({@link Platform#isSupported()}), unless the system property
 * {@code tcpscope.transport} is {@code portable}; the portable one everywhere else. The property
 * is read at each connect and bind, so a JVM uses one transport as long as nobody changes it.
 *
 * <p>This is a placeholder seam: the selection by the kernel's architecture (uname) and a
 * {@code native} value of the property come with the platform work of issue 13, part 2, whose
 * selection function replaces this body.
 */
public final class Transports {

    /** The system property that forces a transport: {@code portable}. */
    public static final String PROPERTY = "tcpscope.transport";

    private Transports() {}

    /** {@return the transport to use now} */
    public static Transport current() {
        if (Platform.isSupported() && !"portable".equals(System.getProperty(PROPERTY))) {
            return NativeTransport.INSTANCE; // loaded only here: no native binding is touched elsewhere
        }
        return PortableTransport.INSTANCE;
    }
}
