package dev.tcpscope.internal.os;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The architecture of the running JVM's own executable, from the ELF header of
 * {@code /proc/self/exe}: read as a file, with no native call.
 *
 * <p>Why before anything native: JDK 25's FFM linker chooses its calling convention from the
 * {@code os.arch} property as the JVM started with it ({@code jdk.internal.foreign.CABI}), so a
 * {@code -Dos.arch=aarch64} on an x86_64 JVM makes the first downcall handle crash the JVM
 * (SIGSEGV in {@code ForeignGlobals::parse_abi_descriptor}, seen here), uname(2)'s included.
 * {@link Platform} compares this with {@code os.arch} first, so that such a lie is refused with a
 * message instead.
 */
final class ExecutableMachine {

    private static final Path SELF = Path.of("/proc/self/exe");

    private ExecutableMachine() {}

    /**
     * {@return the executable's machine, named as Linux's uname names it ({@code x86_64},
     * {@code aarch64}, {@code i686}, {@code arm}, ...), or {@code "ELF machine N"} for others}
     *
     * @throws UnsupportedOperationException if /proc/self/exe cannot be read as an ELF file
     */
    static String read() {
        byte[] header = new byte[20];
        try (InputStream in = Files.newInputStream(SELF)) {
            if (in.readNBytes(header, 0, header.length) != header.length) {
                throw new IOException("shorter than an ELF header");
            }
        } catch (IOException e) {
            throw new UnsupportedOperationException("cannot read the ELF header of " + SELF
                    + " to tell this JVM's architecture: " + e.getMessage(), e);
        }
        return machineOf(header);
    }

    /** {@return the machine an ELF header's first 20 bytes name} */
    static String machineOf(byte[] header) {
        if (header[0] != 0x7f || header[1] != 'E' || header[2] != 'L' || header[3] != 'F') {
            throw new UnsupportedOperationException(SELF + " is not an ELF file: cannot tell this JVM's architecture");
        }
        boolean is64 = header[4] == 2;               // EI_CLASS: ELFCLASS64
        boolean littleEndian = header[5] == 1;       // EI_DATA: ELFDATA2LSB
        int machine = littleEndian
                ? (header[18] & 0xff) | (header[19] & 0xff) << 8
                : (header[19] & 0xff) | (header[18] & 0xff) << 8;
        return switch (machine) {
            case 62 -> is64 ? "x86_64" : "x32";                   // EM_X86_64 (x32: its ILP32 ABI)
            case 183 -> is64 ? "aarch64" : "aarch64_ilp32";       // EM_AARCH64
            case 3 -> "i686";                                     // EM_386
            case 40 -> "arm";                                     // EM_ARM
            case 243 -> is64 ? "riscv64" : "riscv32";             // EM_RISCV
            case 21 -> littleEndian ? "ppc64le" : "ppc64";        // EM_PPC64
            case 22 -> "s390x";                                   // EM_S390
            default -> "ELF machine " + machine;
        };
    }
}
