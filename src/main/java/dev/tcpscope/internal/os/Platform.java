package dev.tcpscope.internal.os;

import dev.tcpscope.internal.os.PlatformChoice.Kind;

/**
 * The transport this JVM runs on, chosen once ({@link PlatformSelection} holds the rules), and the
 * refusal to run native code with another architecture's layouts.
 *
 * <p>The native bindings are per architecture: {@code struct epoll_event} is packed on x86_64
 * (12 bytes, data at offset 4) and not on aarch64 (16 bytes, data at offset 8). The
 * architecture is read from the kernel (uname(2)'s machine field), not only from the
 * {@code os.arch} property, which a {@code -D} flag changes; the two must agree. And since JDK
 * 25's FFM linker takes its calling convention from that same property, a lying os.arch would
 * crash the JVM at the first downcall (uname's too): so before uname is called, os.arch is
 * compared with the JVM's own executable, read as a file ({@link ExecutableMachine}).
 */
public final class Platform {

    private Platform() {}

    /** The choice, made when first asked for (uname is called then, and only on Linux). */
    private static final class Selected {
        static final PlatformChoice CHOICE;
        static final String REFUSAL; // the message of the refusal, when CHOICE is null

        static {
            PlatformChoice choice = null;
            String refusal = null;
            try {
                choice = select();
            } catch (UnsupportedOperationException e) {
                refusal = e.getMessage();
            }
            CHOICE = choice;
            REFUSAL = refusal;
        }
    }

    /**
     * {@return the transport this JVM uses, the same on every call}
     *
     * @throws UnsupportedOperationException if tcpscope refuses to start here (the same message
     *         on every call), see {@link PlatformSelection#choose}
     */
    public static PlatformChoice selected() {
        if (Selected.CHOICE == null) {
            throw new UnsupportedOperationException(Selected.REFUSAL);
        }
        return Selected.CHOICE;
    }

    /**
     * Throws unless this JVM runs on the native transport: the guard of the native layers
     * ({@code LinuxSyscalls}, the poller's layout), which only the native transport loads.
     *
     * @throws UnsupportedOperationException the refusal of {@link #selected()}, or, when the
     *         portable transport is chosen, that native code must not run
     */
    public static void requireSupported() {
        nativeArchitecture();
    }

    /**
     * {@return the architecture whose native layouts this JVM uses}
     *
     * @throws UnsupportedOperationException as {@link #requireSupported()}
     */
    public static Architecture nativeArchitecture() {
        PlatformChoice choice = selected();
        if (choice.kind() != Kind.NATIVE) {
            throw new UnsupportedOperationException("tcpscope chose the portable transport (" + choice.reason()
                    + "): its native layers must not run");
        }
        return choice.architecture();
    }

    private static PlatformChoice select() {
        String osName = System.getProperty("os.name");
        String transport = System.getProperty(PlatformSelection.TRANSPORT_PROPERTY);
        // uname only where it is Linux's, and not when the answer cannot matter.
        boolean needsKernel = PlatformSelection.isLinux(osName) && !PlatformSelection.PORTABLE.equals(transport);
        String osArch = System.getProperty("os.arch");
        if (needsKernel) {
            // No native call before this check: with a lying os.arch, uname's downcall would crash.
            PlatformSelection.requireLinkerAbi(osArch, ExecutableMachine.read());
        }
        String kernelMachine = needsKernel ? KernelMachine.read() : null;
        return PlatformSelection.choose(osName, kernelMachine, osArch, transport);
    }
}
