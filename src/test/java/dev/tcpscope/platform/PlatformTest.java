package dev.tcpscope.platform;

import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Child JVMs check two promises about how the library loads: TcpConnection and TcpListener need
 * no {@code --enable-preview}, and the transport is chosen from what the kernel says, refusing to
 * start instead of using a wrong struct layout (the rules themselves: PlatformSelectionTest), or
 * running on the portable transport (the JDK's channels) when asked to.
 *
 * <p>Checked by breaking it: without the check of os.arch against the JVM's executable,
 * {@code osArchNamingAnotherArchitectureIsRefused} failed: the child JVM crashed (SIGSEGV in
 * {@code ForeignGlobals::parse_abi_descriptor}, its hs_err report on stdout) at uname's downcall,
 * JDK 25's FFM linker having taken the aarch64 calling convention from os.arch; restored.
 */
class PlatformTest {

    @Test
    void connectionsWorkWithoutEnablePreview() throws Exception {
        String out = runChild();
        assertTrue(out.startsWith("delivered 1000\nTcpConnection[native, "), "child JVM without --enable-preview: " + out);
    }

    @Test
    void nativeCanBeAskedForWhereItExists() throws Exception {
        String out = runChild("-Dtcpscope.transport=native");
        assertTrue(out.startsWith("delivered 1000\nTcpConnection[native, "), out);
    }

    @Test
    void osArchNamingAnotherArchitectureIsRefused() throws Exception {
        // os.arch set on the command line; the JVM (and the kernel) are still x86_64. The FFM
        // linker follows os.arch, so the refusal must come before any native call.
        String out = runChild("-Dos.arch=aarch64");
        assertTrue(out.startsWith("java.lang.UnsupportedOperationException: the JVM's os.arch property says"
                + " aarch64, but this JVM's executable is x86_64"), "expected a refusal, got: " + out);
    }

    @Test
    void anUnknownTransportIsRefusedNamingTheAllowedOnes() throws Exception {
        String out = runChild("-Dtcpscope.transport=jdk");
        assertTrue(out.startsWith("java.lang.UnsupportedOperationException: -Dtcpscope.transport=jdk is not a"
                + " transport tcpscope knows: the allowed values are native and portable"), out);
    }

    @Test
    void thePortableTransportIsChosenWhenForced() throws Exception {
        // Forced, the portable transport runs without uname and without comparing os.arch with
        // anything: no native call is made. Checked by making Transports.current() ignore the
        // choice: the child then said native (and, with os.arch=aarch64, was refused).
        String out = runChild("-Dtcpscope.transport=portable", "-Dos.arch=aarch64");
        assertTrue(out.startsWith("unconfirmed 1000\nTcpConnection[portable, "), "expected the portable transport: " + out);
    }

    /**
     * Runs {@link ConnectionWithoutPreviewMain} without {@code --enable-preview}; {@return what it
     * printed} Nothing may go to stderr (no warning, no stack trace).
     */
    private static String runChild(String... jvmOptions) throws IOException {
        try (ChildProcess child = ChildJvm.of(ConnectionWithoutPreviewMain.class).withoutPreview()
                .jvmOptions(jvmOptions).start()) {
            child.awaitExit();
            assertEquals("", child.stderr().strip(), "the child's stderr");
            return String.join("\n", child.stdout()).strip();
        }
    }
}
