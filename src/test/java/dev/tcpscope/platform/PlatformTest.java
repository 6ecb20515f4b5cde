package dev.tcpscope.platform;

import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Child JVMs check two promises about how the library loads: TcpConnection and TcpListener need
 * no {@code --enable-preview}, and on an architecture without generated bindings the library
 * never uses a wrong struct layout: it runs on the portable transport (the JDK's channels).
 */
class PlatformTest {

    @Test
    void connectionsWorkWithoutEnablePreview() throws Exception {
        String out = runChild();
        assertTrue(out.startsWith("delivered 1000\nTcpConnection[native, "), "child JVM without --enable-preview: " + out);
    }

    @Test
    void anotherArchitectureRunsThePortableTransport() throws Exception {
        // os.arch set on the command line is what the library reads to choose bindings (until the
        // selection reads uname(2): issue 13, part 2, which turns this mismatch into a refusal).
        // Checked by making Transports.current() ignore the platform: the child then says native.
        String out = runChild("-Dos.arch=aarch64");
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
