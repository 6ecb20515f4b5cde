package dev.tcpscope.internal.os;

import java.util.List;

/**
 * A processor architecture for which tcpscope has native Linux bindings.
 *
 * <p>Each is known by two names: the one the Linux kernel reports in {@code uname(2)}'s machine
 * field, which says what the process really runs on, and those a JVM puts in the {@code os.arch}
 * property, which a {@code -D} flag can change. {@link PlatformSelection} requires the two to
 * agree before it chooses native bindings.
 */
public enum Architecture {

    /** x86-64: the kernel says {@code x86_64}, the JDK's {@code os.arch} is {@code amd64}. */
    X86_64("x86_64", List.of("amd64", "x86_64")),

    /** 64-bit ARM: the kernel says {@code aarch64}, the JDK's {@code os.arch} is {@code aarch64}. */
    AARCH64("aarch64", List.of("aarch64", "arm64"));

    private final String kernelMachine;
    private final List<String> osArchNames;

    Architecture(String kernelMachine, List<String> osArchNames) {
        this.kernelMachine = kernelMachine;
        this.osArchNames = osArchNames;
    }

    /** {@return the name Linux reports in struct utsname's machine field} */
    public String kernelMachine() {
        return kernelMachine;
    }

    /**
     * {@return the architecture the kernel names {@code machine}, or null if tcpscope has no
     * native bindings for it (e.g. {@code riscv64}, {@code armv7l})}
     */
    public static Architecture ofKernelMachine(String machine) {
        for (Architecture a : values()) {
            if (a.kernelMachine.equals(machine)) {
                return a;
            }
        }
        return null;
    }

    /**
     * {@return the architecture an {@code os.arch} value names (either alias: {@code amd64} or
     * {@code x86_64}, {@code aarch64} or {@code arm64}), or null if none of these}
     */
    public static Architecture ofOsArch(String osArch) {
        for (Architecture a : values()) {
            if (a.osArchNames.contains(osArch)) {
                return a;
            }
        }
        return null;
    }
}
