package dev.tcpscope.internal.os;

import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.ffi.x86_64.sockaddr_in;
import dev.tcpscope.internal.ffi.x86_64.sockaddr_in6;
import dev.tcpscope.internal.ffi.x86_64.sockaddr_storage;
import dev.tcpscope.internal.ffi.x86_64.utsname;
import dev.tcpscope.internal.poll.ExitingProgramMain;
import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The descriptors, offsets and sizes that the library spells out, to keep jextract's classes from
 * linking handles it never calls ({@link LibcFunction}, {@link KernelMachine}), are jextract's: the
 * generated bindings are the source of truth, and AbiProbeTest checks those against C.
 *
 * <p>Checked by breaking it: with recv's length argument spelled C_INT instead of C_LONG, or
 * MACHINE_OFFSET as 3 * 65, or STORAGE_SIZE as 112, or IN6_SCOPE_ID as 20, these tests failed
 * naming the function or the field; with LinuxSyscalls linking socket from {@code Libc.socket$descriptor()} again, the
 * child JVM's class log named {@code Libc$socket}.
 */
class LibcFunctionTest {

    @ParameterizedTest
    @EnumSource(LibcFunction.class)
    void eachDescriptorIsJextracts(LibcFunction function) throws ReflectiveOperationException {
        // Read by reflection from the same generated accessor the library used to call.
        FunctionDescriptor generated = (FunctionDescriptor) Libc.class
                .getMethod(function.symbol() + "$descriptor").invoke(null);
        assertEquals(generated, function.descriptor(), function.symbol());
    }

    @ParameterizedTest
    @EnumSource(LibcFunction.class)
    void eachConstantNamesItsSymbol(LibcFunction function) {
        // SEND with the symbol "recv" would pass the two tests below: the descriptors are equal.
        assertEquals(function.name().toLowerCase(Locale.ROOT), function.symbol());
    }

    @ParameterizedTest
    @EnumSource(LibcFunction.class)
    void eachSymbolIsWhereJextractsLookupFindsIt(LibcFunction function) throws ReflectiveOperationException {
        MemorySegment generated = (MemorySegment) Libc.class
                .getMethod(function.symbol() + "$address").invoke(null);
        assertEquals(generated.address(), function.address().address(), function.symbol());
    }

    @Test
    void aConnectionLinksNoneOfJextractsOwnHandles() throws Exception {
        // The point of spelling the descriptors: a program's connection must not initialise
        // jextract's per-function holder classes (each links a handle of its own), nor the struct
        // classes read as constants. A child JVM logs the classes it loads while it connects.
        try (ChildProcess child = ChildJvm.of(ExitingProgramMain.class)
                .jvmOptions("-Xlog:class+load=info:stderr").start()) {
            assertEquals("CONNECTED", child.expect("CONNECTED"), child::describe);
            assertEquals(0, child.awaitExit(), child::describe);
            String loaded = child.stderr();
            assertTrue(loaded.contains("dev.tcpscope.internal.os.LibcFunction "), "the log names the classes loaded");
            for (LibcFunction function : LibcFunction.values()) {
                assertFalse(loaded.contains("dev.tcpscope.internal.ffi.x86_64.Libc$" + function.symbol() + " "),
                        "jextract's holder of " + function.symbol() + " was loaded, and linked a handle");
            }
            assertFalse(loaded.contains("dev.tcpscope.internal.ffi.x86_64.utsname "), "utsname was loaded");
            assertFalse(loaded.contains("dev.tcpscope.internal.ffi.x86_64.sockaddr_storage "),
                    "sockaddr_storage was loaded");
            assertFalse(loaded.contains("dev.tcpscope.internal.ffi.x86_64.sockaddr_in "), "sockaddr_in was loaded");
            assertFalse(loaded.contains("dev.tcpscope.internal.ffi.x86_64.sockaddr_in6 "), "sockaddr_in6 was loaded");
            assertFalse(loaded.contains("dev.tcpscope.internal.ffi.x86_64.linger "), "linger was loaded");
        }
    }

    @Test
    void sockaddrInSizeAlignmentAndOffsetsAreJextracts() {
        assertEquals(sockaddr_in.layout().byteSize(), SocketAddresses.IN_SIZE);
        assertEquals(sockaddr_in.layout().byteAlignment(), SocketAddresses.IN_ALIGNMENT);
        assertEquals(sockaddr_in.sin_family$offset(), SocketAddresses.FAMILY);
        assertEquals(sockaddr_in.sin_port$offset(), SocketAddresses.IN_PORT);
        assertEquals(sockaddr_in.sin_addr$offset(), SocketAddresses.IN_ADDR);
    }

    @Test
    void sockaddrIn6SizeAlignmentAndOffsetsAreJextracts() {
        assertEquals(sockaddr_in6.layout().byteSize(), SocketAddresses.IN6_SIZE);
        assertEquals(sockaddr_in6.layout().byteAlignment(), SocketAddresses.IN6_ALIGNMENT);
        assertEquals(sockaddr_in6.sin6_family$offset(), SocketAddresses.FAMILY);
        assertEquals(sockaddr_in6.sin6_port$offset(), SocketAddresses.IN6_PORT);
        assertEquals(sockaddr_in6.sin6_addr$offset(), SocketAddresses.IN6_ADDR);
        assertEquals(sockaddr_in6.sin6_scope_id$offset(), SocketAddresses.IN6_SCOPE_ID);
    }

    @Test
    void sockaddrStorageSizeIsJextracts() {
        assertEquals(sockaddr_storage.layout().byteSize(), SocketAddresses.STORAGE_SIZE);
    }

    @Test
    void utsnameOffsetsAreJextracts() {
        assertEquals(utsname.sysname$offset(), KernelMachine.SYSNAME_OFFSET);
        assertEquals(utsname.machine$offset(), KernelMachine.MACHINE_OFFSET);
    }

    @Test
    void theMachineReadIsWhatUnameDashMSays() throws Exception {
        Process uname = new ProcessBuilder("uname", "-m").redirectErrorStream(true).start();
        String expected = new String(uname.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        assertEquals(0, uname.waitFor());
        assertEquals(expected, KernelMachine.read());
    }
}
