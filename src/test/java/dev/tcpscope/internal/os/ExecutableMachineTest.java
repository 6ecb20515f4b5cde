package dev.tcpscope.internal.os;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The JVM executable's architecture, read from its ELF header without a native call: the
 * header fields decoded from made-up headers, and this JVM's own.
 *
 * <p>Checked by breaking it: reading e_machine big-endian always failed every little-endian row
 * and {@code thisJvmIsX86_64}; ignoring EI_CLASS failed the riscv32 and x32 rows. Restored.
 */
class ExecutableMachineTest {

    @ParameterizedTest(name = "class {0}, data {1}, e_machine {2} -> {3}")
    @CsvSource({
            "2, 1,  62, x86_64",
            "1, 1,  62, x32",
            "2, 1, 183, aarch64",
            "2, 1,   3, i686",
            "1, 1,  40, arm",
            "2, 1, 243, riscv64",
            "1, 1, 243, riscv32",
            "2, 1,  21, ppc64le",
            "2, 2,  21, ppc64",
            "2, 2,  22, s390x",
            "2, 1, 258, ELF machine 258",
    })
    void decodesTheHeader(int elfClass, int data, int machine, String expected) {
        byte[] header = new byte[20];
        header[0] = 0x7f;
        header[1] = 'E';
        header[2] = 'L';
        header[3] = 'F';
        header[4] = (byte) elfClass;
        header[5] = (byte) data;
        if (data == 1) {
            header[18] = (byte) machine;
            header[19] = (byte) (machine >> 8);
        } else {
            header[18] = (byte) (machine >> 8);
            header[19] = (byte) machine;
        }
        assertEquals(expected, ExecutableMachine.machineOf(header));
    }

    @Test
    void aFileThatIsNotElfIsRefused() {
        assertThrows(UnsupportedOperationException.class, () -> ExecutableMachine.machineOf(new byte[20]));
    }

    @Test
    void thisJvmIsX86_64() {
        // The suite runs on Linux x86_64 (README: Platforms); the executable is the java launcher.
        assertEquals("x86_64", ExecutableMachine.read());
    }
}
