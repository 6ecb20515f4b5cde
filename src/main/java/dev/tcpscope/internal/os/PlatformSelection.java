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
 *       {@code amd64}/{@code x86_64} and {@code aarch64}/{@code arm64} agree): refused. They
 *       disagree when the property was changed by hand, or when a 32-bit JVM runs on a 64-bit
 *       kernel (e.g. {@code arm} on {@code aarch64}), where native 64-bit layouts would be wrong
 *       too. Neither side is trusted over the other: the user decides, e.g. with
 *       {@code -Dtcpscope.transport=portable}.</li>
 * </ul>
 * Before the kernel can be asked (uname(2) is a native call), {@link #requireLinkerAbi} checks
 * {@code os.arch} against the JVM's own executable: JDK 25's FFM linker takes its calling
 * convention from {@code os.arch}, so when that property lies every downcall crashes the JVM.
 *
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
                    + ". One of the two is not this process's architecture (os.arch changed with -D, or a"
                    + " 32-bit JVM on a 64-bit kernel), and native layouts chosen from either could be"
                    + " another architecture's: tcpscope refuses to start."
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

    /**
     * Checks, on Linux, that {@code os.arch} names the architecture of the JVM's own executable,
     * before any native call: JDK 25's FFM linker takes its calling convention from
     * {@code os.arch} ({@code jdk.internal.foreign.CABI}), so with {@code -Dos.arch=aarch64} on an
     * x86_64 JVM the first downcall handle crashes the JVM (seen: SIGSEGV in
     * {@code ForeignGlobals::parse_abi_descriptor}), uname(2)'s included.
     *
     * @param osArch             the {@code os.arch} property
     * @param executableMachine  the JVM executable's architecture, named as uname names machines
     * @throws UnsupportedOperationException if they name different architectures (aliases agree)
     */
    public static void requireLinkerAbi(String osArch, String executableMachine) {
        if (Architecture.ofOsArch(osArch) != Architecture.ofKernelMachine(executableMachine)) {
            throw new UnsupportedOperationException("the JVM's os.arch property says " + osArch
                    + ", but this JVM's executable is " + executableMachine + " (its ELF header)."
                    + " The FFM linker takes its calling convention from os.arch, so every native call"
                    + " would use another architecture's and crash the JVM: tcpscope refuses to start."
                    + " Remove -Dos.arch, or run with -D" + TRANSPORT_PROPERTY + "=" + PORTABLE + ".");
        }
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
