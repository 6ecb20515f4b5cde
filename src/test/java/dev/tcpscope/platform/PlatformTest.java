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
 * refuses to start instead of using a wrong struct layout.
 */
class PlatformTest {

    @Test
    void connectionsWorkWithoutEnablePreview() throws Exception {
        String out = runChild();
        assertEquals("delivered 1000", out, "child JVM without --enable-preview");
    }

    @Test
    void anotherArchitectureIsRefusedWithAClearMessage() throws Exception {
        // os.arch set on the command line is what the library reads to choose bindings.
        String out = runChild("-Dos.arch=aarch64");
        assertTrue(out.startsWith("java.lang.UnsupportedOperationException: tcpscope has native bindings for Linux x86_64 only"),
                "expected a refusal, got: " + out);
        assertTrue(out.contains("aarch64"), out);
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
