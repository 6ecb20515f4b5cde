package dev.tcpscope.internal.os;

import java.util.Locale;

/**
 * Which platform the generated bindings were made for, and the refusal to run anywhere else.
 *
 * <p>jextract output is per architecture: {@code struct epoll_event} is packed on x86_64
 * (12 bytes, data at offset 4) and not on aarch64 (16 bytes, data at offset 8). Running the
 * x86_64 bindings elsewhere would read and write the wrong bytes, so tcpscope refuses to start
 * instead.
 */
public final class Platform {

    private Platform() {}

    /** {@return whether bindings exist for the running OS and architecture} */
    public static boolean isSupported() {
        return isLinux() && isX86_64();
    }

    /** Throws unless the running platform has generated bindings. */
    public static void requireSupported() {
        if (!isSupported()) {
            throw new UnsupportedOperationException(
                    "tcpscope has native bindings for Linux x86_64 only; this JVM runs on "
                            + System.getProperty("os.name") + " " + System.getProperty("os.arch")
                            + ". Bindings generated for one architecture are wrong on another"
                            + " (struct epoll_event differs), so tcpscope refuses to start.");
        }
    }

    private static boolean isLinux() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux");
    }

    private static boolean isX86_64() {
        String arch = System.getProperty("os.arch", "");
        return arch.equals("amd64") || arch.equals("x86_64");
    }
}
