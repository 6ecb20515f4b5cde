package dev.tcpscope.platform;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

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
        String out = runChild(List.of());
        assertEquals("delivered 1000", out, "child JVM without --enable-preview");
    }

    @Test
    void anotherArchitectureIsRefusedWithAClearMessage() throws Exception {
        // os.arch set on the command line is what the library reads to choose bindings.
        String out = runChild(List.of("-Dos.arch=aarch64"));
        assertTrue(out.startsWith("java.lang.UnsupportedOperationException: tcpscope has native bindings for Linux x86_64 only"),
                "expected a refusal, got: " + out);
        assertTrue(out.contains("aarch64"), out);
    }

    private static String runChild(List<String> jvmOptions) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        String classPath = location(dev.tcpscope.TcpConnection.class) + File.pathSeparator
                + location(ConnectionWithoutPreviewMain.class);
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", classPath, ConnectionWithoutPreviewMain.class.getName()));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child did not exit");
            return out;
        } finally {
            child.destroyForcibly();
        }
    }

    private static String location(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
