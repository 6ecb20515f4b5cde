package dev.tcpscope.internal.os;

import dev.tcpscope.internal.os.PlatformChoice.Kind;

/**
 * The rules that choose the transport, as a pure function of what the JVM and the kernel say:
 * no system property is read and no native call is made here ({@link Platform} gathers the
 * inputs), so every rule is tested with plain values.
 *
 * <ul>
 *   <li>Linux on a machine with native layouts ({@code x86_64}, {@code aarch64}): native, with
 *       that architecture's layouts.</li>
 *   <li>Linux on any other machine, macOS, Windows, anything else: portable.</li>
 *   <li>{@code -Dtcpscope.transport=portable}: portable, everywhere, whatever else is seen.</li>
 *   <li>{@code -Dtcpscope.transport=native} where no native layouts exist: refused.</li>
 *   <li>Any other value of the property (the empty string included): refused, naming the allowed ones.</li>
 *   <li>On Linux, {@code os.arch} naming another architecture than the kernel's machine (aliases
 *       {@code amd64}/{@code x86_64} and {@code aarch64}/{@code arm64} agree): refused. The FFM
 *       linker keeps the process's real ABI whatever {@code os.arch} says, so the two disagree
 *       only when the property was changed by hand, or when a 32-bit JVM runs on a 64-bit kernel
 *       (e.g. {@code arm} on {@code aarch64}), where native 64-bit layouts would be wrong too.
 *       Neither side is trusted over the other: the user decides, e.g. with
 *       {@code -Dtcpscope.transport=portable}.</li>
 * </ul>
 * A refusal is an {@link UnsupportedOperationException} whose message names what was wrong.
 */
public final class PlatformSelection {

    /** The system property that forces a transport. */
    public static final String TRANSPORT_PROPERTY = "tcpscope.transport";

    /** The value of {@link #TRANSPORT_PROPERTY} that asks for the native transport (or a refusal). */
    public static final String NATIVE = "native";

    /** The value of {@link #TRANSPORT_PROPERTY} that forces the portable transport. */
    public static final String PORTABLE = "portable";

    private PlatformSelection() {}

    /**
     * {@return the transport for these inputs}
     *
     * @param osName        the {@code os.name} property, e.g. {@code Linux}, {@code Mac OS X}
     * @param kernelMachine uname(2)'s machine field on Linux (e.g. {@code x86_64}); null elsewhere
     * @param osArch        the {@code os.arch} property, e.g. {@code amd64}
     * @param transport     the {@code tcpscope.transport} property: null, {@code native} or {@code portable}
     * @throws UnsupportedOperationException if tcpscope must not start: an unknown property value,
     *         native asked for where there are no native layouts, or os.arch disagreeing with the kernel
     * @throws IllegalArgumentException if {@code osName} is Linux but {@code kernelMachine} is null
     */
    public static PlatformChoice choose(String osName, String kernelMachine, String osArch, String transport) {
        if (transport != null && !transport.equals(NATIVE) && !transport.equals(PORTABLE)) {
            throw new UnsupportedOperationException("-D" + TRANSPORT_PROPERTY + "=" + transport
                    + " is not a transport tcpscope knows: the allowed values are " + NATIVE + " and " + PORTABLE
                    + " (or leave the property unset to choose by platform)");
        }
        if (PORTABLE.equals(transport)) {
            return new PlatformChoice(Kind.PORTABLE, null,
                    "portable transport, forced by -D" + TRANSPORT_PROPERTY + "=" + PORTABLE);
        }
        boolean forcedNative = NATIVE.equals(transport);
        if (!isLinux(osName)) {
            String seen = osName + " " + osArch;
            if (forcedNative) {
                throw noNativeLayouts(seen);
            }
            return new PlatformChoice(Kind.PORTABLE, null,
                    "portable transport: no native bindings for " + seen + " (native ones are Linux only)");
        }
        if (kernelMachine == null) {
            throw new IllegalArgumentException("on Linux the kernel's machine (uname) is needed, got null");
        }
        Architecture kernel = Architecture.ofKernelMachine(kernelMachine);
        Architecture jvm = Architecture.ofOsArch(osArch);
        if (kernel != jvm) {
            throw new UnsupportedOperationException("the kernel says this machine is " + kernelMachine
                    + " (uname), but the JVM's os.arch property says " + osArch
                    + ". The FFM linker uses the real ABI whatever os.arch says, so one of the two is wrong"
                    + " (os.arch changed with -D, or a 32-bit JVM on a 64-bit kernel), and native layouts"
                    + " chosen from either could be another architecture's: tcpscope refuses to start."
                    + " Remove -Dos.arch, or run with -D" + TRANSPORT_PROPERTY + "=" + PORTABLE + ".");
        }
        if (kernel == null) {
            String seen = "Linux " + kernelMachine;
            if (forcedNative) {
                throw noNativeLayouts(seen);
            }
            return new PlatformChoice(Kind.PORTABLE, null,
                    "portable transport: no native bindings for " + seen);
        }
        return new PlatformChoice(Kind.NATIVE, kernel,
                "native transport: Linux " + kernelMachine + " (uname machine " + kernelMachine
                        + ", os.arch " + osArch + ")"
                        + (forcedNative ? ", as -D" + TRANSPORT_PROPERTY + "=" + NATIVE + " asks" : ""));
    }

    /** {@return whether {@code osName}, an {@code os.name} value, is Linux} */
    public static boolean isLinux(String osName) {
        return osName != null && osName.equals("Linux");
    }

    private static UnsupportedOperationException noNativeLayouts(String seen) {
        return new UnsupportedOperationException("-D" + TRANSPORT_PROPERTY + "=" + NATIVE
                + " asks for native bindings, but tcpscope has them only for Linux x86_64 and aarch64,"
                + " and this JVM runs on " + seen + ". Leave the property unset or set it to " + PORTABLE
                + " to use the portable transport.");
    }
}
