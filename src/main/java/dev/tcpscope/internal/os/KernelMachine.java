package dev.tcpscope.internal.os;

import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.ffi.x86_64.utsname;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The architecture the Linux kernel says this process runs on: uname(2)'s machine field
 * ({@code x86_64}, {@code aarch64}, ...), which, unlike the {@code os.arch} property, no
 * command-line flag can change.
 *
 * <p>The binding comes from the x86_64 package, and is right on every Linux architecture: struct
 * utsname is six {@code char[65]} fields there (the kernel's {@code new_utsname}; AbiProbeTest
 * checks x86_64 and aarch64), so it has no architecture-dependent layout to get wrong. Only
 * called on Linux ({@link Platform}); as a guard against an {@code os.name} set by hand on
 * another system, whose struct utsname is larger (macOS: five {@code char[256]}), the buffer is
 * far larger than any, and the sysname field, first on every system, must say Linux.
 */
final class KernelMachine {

    /** Room for any system's struct utsname, so that a non-Linux uname cannot write past it. */
    private static final long BUFFER_BYTES = 4096;

    private KernelMachine() {}

    /**
     * {@return uname(2)'s machine field}
     *
     * @throws UnsupportedOperationException if uname fails or its sysname is not Linux
     */
    static String read() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(Math.max(BUFFER_BYTES, utsname.layout().byteSize()),
                    utsname.layout().byteAlignment());
            if (Libc.uname(buffer) != 0) { // fails only with EFAULT, for a bad pointer
                throw new UnsupportedOperationException("uname(2) failed: tcpscope cannot tell the architecture");
            }
            String sysname = utsname.sysname(buffer).getString(0);
            if (!sysname.equals("Linux")) {
                throw new UnsupportedOperationException("os.name says Linux, but uname(2) says " + sysname
                        + ": tcpscope refuses to start rather than guess the platform");
            }
            return utsname.machine(buffer).getString(0);
        }
    }
}
