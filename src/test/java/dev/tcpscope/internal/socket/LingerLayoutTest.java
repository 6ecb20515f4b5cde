package dev.tcpscope.internal.socket;

import dev.tcpscope.internal.ffi.x86_64.linger;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link SocketOptions} spells {@code struct linger} as constants, so that a program's first
 * connection does not run jextract's {@code linger} class initialiser; they must be jextract's
 * (which AbiProbeTest checks against C). The child JVM of {@code LibcFunctionTest} checks that a
 * connection does not load the class. Checked by breaking it: with {@code L_LINGER} as 2, this
 * failed naming the field.
 */
class LingerLayoutTest {

    @Test
    void lingerSizeAlignmentAndOffsetsAreJextracts() {
        assertEquals(linger.layout().byteSize(), SocketOptions.LINGER_SIZE, "size");
        assertEquals(linger.layout().byteAlignment(), SocketOptions.LINGER_ALIGNMENT, "alignment");
        assertEquals(linger.l_onoff$offset(), SocketOptions.L_ONOFF, "l_onoff");
        assertEquals(linger.l_linger$offset(), SocketOptions.L_LINGER, "l_linger");
    }
}
