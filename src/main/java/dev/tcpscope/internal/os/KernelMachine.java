package dev.tcpscope.internal.os;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The architecture the Linux kernel says this process runs on: uname(2)'s machine field
 * ({@code x86_64}, {@code aarch64}, ...), which, unlike the {@code os.arch} property, no
 * command-line flag can change.
 *
 * <p>struct utsname is six {@code char[65]} fields on every Linux architecture (the kernel's
 * {@code new_utsname}), so it has no architecture-dependent layout to get wrong. Its offsets are
 * constants here rather than read through jextract's {@code utsname} class, whose initializer
 * makes a var handle per field (tens of milliseconds of a program's first connection, for two
 * strings); {@code LibcFunctionTest} checks them against that class, which {@code AbiProbeTest}
 * checks against C on x86_64 and aarch64. Only called on Linux ({@link Platform}); as a guard
 * against an {@code os.name} set by hand on another system, whose struct utsname is larger
 * (macOS: five {@code char[256]}), the buffer is far larger than any, and the sysname field,
 * first on every system, must say Linux.
 */
final class KernelMachine {

    /** Room for any system's struct utsname, so that a non-Linux uname cannot write past it. */
    private static final long BUFFER_BYTES = 4096;

    /** Offset of struct utsname's sysname field. */
    static final long SYSNAME_OFFSET = 0;

    /** Offset of struct utsname's machine field: after sysname, nodename, release and version. */
    static final long MACHINE_OFFSET = 4 * 65;

    private KernelMachine() {}

    /**
     * {@return uname(2)'s machine field}
     *
     * @throws UnsupportedOperationException if uname fails or its sysname is not Linux
     */
    static String read() {
        // Linked without errno capture: uname fails only with EFAULT, for a bad pointer.
        MethodHandle uname = Linker.nativeLinker().downcallHandle(LibcFunction.UNAME.address(),
                LibcFunction.UNAME.descriptor());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(BUFFER_BYTES, 8);
            int result;
            try {
                result = (int) uname.invokeExact(buffer);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new AssertionError("uname downcall failed to invoke: " + t, t);
            }
            if (result != 0) {
                throw new UnsupportedOperationException("uname(2) failed: tcpscope cannot tell the architecture");
            }
            String sysname = buffer.getString(SYSNAME_OFFSET);
            if (!sysname.equals("Linux")) {
                throw new UnsupportedOperationException("os.name says Linux, but uname(2) says " + sysname
                        + ": tcpscope refuses to start rather than guess the platform");
            }
            return buffer.getString(MACHINE_OFFSET);
        }
    }
}
