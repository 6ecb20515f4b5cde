package dev.tcpscope.internal.os;

import dev.tcpscope.internal.os.PlatformChoice.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The transport selection rules, as the pure function they are: plain values in, a choice or a
 * refusal out; no property is read and no native call made. A refusal's message must name what
 * was wrong.
 *
 * <p>Checked by breaking {@link PlatformSelection#choose} on purpose, one way at a time, and
 * watching this class fail: (1) choosing the architecture from os.arch alone (the machine
 * ignored) failed the mismatch rows; (2) dropping the {@code arm64}/{@code x86_64} aliases failed
 * the alias rows; (3) letting {@code portable} win only off Linux failed
 * {@code portableIsForcedEverywhere}; (4) returning portable instead of refusing
 * for {@code native} on macOS failed {@code nativeIsRefusedWhereThereAreNoNativeLayouts}; (5)
 * accepting the value case-insensitively failed the {@code Native} row; (6) making
 * {@code requireLinkerAbi} accept everything failed its refusal rows. Each was restored.
 */
class PlatformSelectionTest {

    @ParameterizedTest(name = "Linux, machine {0}, os.arch {1} -> native {2}")
    @CsvSource({
            "x86_64,  amd64,   X86_64",
            "x86_64,  x86_64,  X86_64",
            "aarch64, aarch64, AARCH64",
            "aarch64, arm64,   AARCH64",
    })
    void linuxWithNativeLayoutsIsNative(String machine, String osArch, Architecture expected) {
        for (String transport : new String[] {null, "native"}) {
            PlatformChoice choice = PlatformSelection.choose("Linux", machine, osArch, transport);
            assertEquals(Kind.NATIVE, choice.kind(), choice.reason());
            assertEquals(expected, choice.architecture(), choice.reason());
            assertTrue(choice.reason().contains(machine), choice.reason());
        }
    }

    @ParameterizedTest(name = "{0}, machine {1}, os.arch {2} -> portable")
    @CsvSource(nullValues = "NULL", value = {
            "Linux,      riscv64, riscv64",
            "Linux,      ppc64le, ppc64le",
            "Linux,      s390x,   s390x",
            "Linux,      armv7l,  arm",
            "Mac OS X,   NULL,    aarch64",
            "Mac OS X,   NULL,    x86_64",
            "Windows 11, NULL,    amd64",
            "FreeBSD,    NULL,    amd64",
    })
    void everywhereElseIsPortable(String osName, String machine, String osArch) {
        PlatformChoice choice = PlatformSelection.choose(osName, machine, osArch, null);
        assertEquals(Kind.PORTABLE, choice.kind(), choice.reason());
        assertNull(choice.architecture());
        assertTrue(choice.reason().contains(machine != null ? machine : osName), choice.reason());
    }

    @ParameterizedTest(name = "{0}, machine {1}, os.arch {2}, -Dtcpscope.transport=portable -> portable")
    @CsvSource(nullValues = "NULL", value = {
            "Linux,      x86_64,  amd64",
            "Linux,      aarch64, aarch64",
            "Linux,      riscv64, riscv64",
            "Linux,      x86_64,  aarch64",   // a mismatch does not matter when no native layout is used
            "Linux,      NULL,    amd64",     // Platform does not even call uname then
            "Mac OS X,   NULL,    aarch64",
            "Windows 11, NULL,    amd64",
    })
    void portableIsForcedEverywhere(String osName, String machine, String osArch) {
        PlatformChoice choice = PlatformSelection.choose(osName, machine, osArch, "portable");
        assertEquals(Kind.PORTABLE, choice.kind());
        assertNull(choice.architecture());
        assertTrue(choice.reason().contains("tcpscope.transport=portable"), choice.reason());
    }

    @ParameterizedTest(name = "{0}, machine {1}, os.arch {2}, -Dtcpscope.transport=native -> refused")
    @CsvSource(nullValues = "NULL", value = {
            "Mac OS X,   NULL,    aarch64, Mac OS X",
            "Windows 11, NULL,    amd64,   Windows 11",
            "Linux,      riscv64, riscv64, riscv64",
    })
    void nativeIsRefusedWhereThereAreNoNativeLayouts(String osName, String machine, String osArch, String named) {
        var e = assertThrows(UnsupportedOperationException.class,
                () -> PlatformSelection.choose(osName, machine, osArch, "native"));
        assertTrue(e.getMessage().contains("-Dtcpscope.transport=native"), e.getMessage());
        assertTrue(e.getMessage().contains(named), e.getMessage());
        assertTrue(e.getMessage().contains("Linux x86_64 and aarch64"), e.getMessage());
    }

    @ParameterizedTest(name = "-Dtcpscope.transport=''{0}'' -> refused")
    @CsvSource(value = {"Native", "PORTABLE", "jdk", "''", "' native'"})
    void anyOtherPropertyValueIsRefusedNamingTheAllowedOnes(String value) {
        for (String osName : new String[] {"Linux", "Mac OS X"}) {
            var e = assertThrows(UnsupportedOperationException.class,
                    () -> PlatformSelection.choose(osName, "Linux".equals(osName) ? "x86_64" : null, "amd64", value));
            assertTrue(e.getMessage().startsWith("-Dtcpscope.transport=" + value + " is not a transport"), e.getMessage());
            assertTrue(e.getMessage().contains("native and portable"), e.getMessage());
        }
    }

    @ParameterizedTest(name = "Linux, machine {0}, os.arch {1} -> refused")
    @CsvSource({
            "x86_64,  aarch64",   // -Dos.arch=aarch64 on an x86_64 JVM
            "x86_64,  arm64",
            "aarch64, amd64",     // -Dos.arch=amd64 on an aarch64 JVM
            "aarch64, x86_64",
            "aarch64, arm",       // a 32-bit ARM JVM on a 64-bit kernel
            "riscv64, amd64",     // claims a native architecture the kernel does not have
            "x86_64,  riscv64",
    })
    void osArchDisagreeingWithTheKernelIsRefused(String machine, String osArch) {
        for (String transport : new String[] {null, "native"}) {
            var e = assertThrows(UnsupportedOperationException.class,
                    () -> PlatformSelection.choose("Linux", machine, osArch, transport));
            assertTrue(e.getMessage().contains("the kernel says this machine is " + machine + " (uname)"), e.getMessage());
            assertTrue(e.getMessage().contains("os.arch property says " + osArch), e.getMessage());
            assertTrue(e.getMessage().contains("-Dtcpscope.transport=portable"), e.getMessage());
        }
    }

    @ParameterizedTest(name = "os.arch {0}, executable {1} -> agree")
    @CsvSource({
            "amd64,   x86_64",
            "x86_64,  x86_64",
            "aarch64, aarch64",
            "arm64,   aarch64",
            "riscv64, riscv64",
            "arm,     arm",
            "ppc64le, ppc64le",
    })
    void osArchNamingTheExecutablesArchitectureIsAccepted(String osArch, String executable) {
        PlatformSelection.requireLinkerAbi(osArch, executable);
    }

    @ParameterizedTest(name = "os.arch {0}, executable {1} -> refused before any native call")
    @CsvSource({
            "aarch64, x86_64",    // -Dos.arch=aarch64 on an x86_64 JVM: the FFM linker would crash
            "amd64,   aarch64",
            "amd64,   riscv64",
            "riscv64, x86_64",
            "amd64,   ELF machine 9999",
    })
    void osArchNamingAnotherArchitectureThanTheExecutableIsRefused(String osArch, String executable) {
        var e = assertThrows(UnsupportedOperationException.class,
                () -> PlatformSelection.requireLinkerAbi(osArch, executable));
        assertTrue(e.getMessage().startsWith("the JVM's os.arch property says " + osArch
                + ", but this JVM's executable is " + executable), e.getMessage());
        assertTrue(e.getMessage().contains("-Dtcpscope.transport=portable"), e.getMessage());
    }

    @Test
    void linuxWithoutTheKernelsMachineIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> PlatformSelection.choose("Linux", null, "amd64", null));
    }

    @Test
    void aChoiceNamesAnArchitectureExactlyWhenNative() {
        assertThrows(IllegalArgumentException.class, () -> new PlatformChoice(Kind.NATIVE, null, "r"));
        assertThrows(IllegalArgumentException.class, () -> new PlatformChoice(Kind.PORTABLE, Architecture.X86_64, "r"));
    }
}
