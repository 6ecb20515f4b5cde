package dev.tcpscope.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Counts this process's socket descriptors through {@code /proc/self/fd}. */
public final class FdCount {

    private static final Path FDS = Path.of("/proc/self/fd");

    private FdCount() {}

    /** {@return how many open descriptors of this process are sockets} */
    public static int sockets() {
        int sockets = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(FDS)) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).toString().startsWith("socket:")) {
                        sockets++;
                    }
                } catch (NoSuchFileException e) {
                    // closed while we looked (or the directory stream's own descriptor)
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return sockets;
    }

    /** {@return every open descriptor of this process, of any kind} */
    public static int all() {
        try (var fds = Files.list(FDS)) {
            return (int) fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
