package dev.tcpscope.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The descriptors of this process whose {@code /proc/self/fd} link target matches: pipes
 * ({@code pipe:[inode]}) or one file, for the tests of sendfile and splice, which open both
 * outside the layer's socket accounting ({@link OpenSockets}, {@link DescriptorCounts}).
 */
public final class ProcessDescriptors {

    private static final Path FDS = Path.of("/proc/self/fd");

    private ProcessDescriptors() {}

    /** {@return the link targets of the open descriptors that are pipes} */
    public static List<String> pipes() {
        return matching(t -> t.startsWith("pipe:"));
    }

    /** {@return the link targets of the open descriptors that are {@code file}} */
    public static List<String> openOn(Path file) {
        String name = file.toAbsolutePath().toString();
        return matching(t -> t.equals(name));
    }

    /** Waits until {@code now} returns {@code expected} (a descriptor is closed by whichever thread drops it last). */
    public static void awaitSame(String what, List<String> expected, java.util.function.Supplier<List<String>> now) {
        Await.until(() -> what + ": expected " + expected + ", found " + now.get(), Await.TIMEOUT,
                () -> now.get().size() == expected.size());
    }

    private static List<String> matching(Predicate<String> target) {
        List<String> found = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(FDS)) {
            for (Path entry : entries) {
                try {
                    String t = Files.readSymbolicLink(entry).toString();
                    if (target.test(t)) {
                        found.add(t);
                    }
                } catch (NoSuchFileException closedMeanwhile) {
                    // gone between the listing and the read
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + FDS, e);
        }
        return found;
    }
}
