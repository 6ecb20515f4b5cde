package dev.tcpscope.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A directory that looks like a JDK of a chosen feature release to scripts/find-jdk.sh: its
 * {@code bin/java} answers {@code -XshowSettings:properties -version} the way a real JDK does (the
 * properties on stderr, in the real order, with {@code java.specification.version} among other
 * version properties) and refuses any other question, so a change in what the script asks fails
 * the tests instead of passing on a fake that answers everything. {@code bin/javac} exists only
 * for a JDK, not for a JRE.
 *
 * <p>No real JDK but 25 can be installed on the machines that run these tests; these fakes are how
 * the choice among 21, 25 and 26 is tested.
 */
final class FakeJdk {

    private FakeJdk() {}

    /** Creates {@code parent/name} as a JDK of feature release {@code release}; {@return its path} */
    static Path jdk(Path parent, String name, int release) {
        return create(parent.resolve(name), release, true);
    }

    /** Creates {@code parent/name} as a JRE (java without javac) of {@code release}; {@return its path} */
    static Path jre(Path parent, String name, int release) {
        return create(parent.resolve(name), release, false);
    }

    private static Path create(Path home, int release, boolean withJavac) {
        try {
            Path bin = Files.createDirectories(home.resolve("bin"));
            // printf, not cat: the tests run the script with a PATH that holds only the tools it needs.
            executable(bin.resolve("java"), """
                    #!/bin/sh
                    # A fake java %1$d: answers only the question scripts/find-jdk.sh asks, like a real JDK (stderr).
                    if [ "$#" -eq 2 ] && [ "$1" = -XshowSettings:properties ] && [ "$2" = -version ]; then
                      printf '%%s\\n' \\
                        'Property settings:' \\
                        '    file.encoding = UTF-8' \\
                        '    java.class.version = %2$d.0' \\
                        '    java.home = %3$s' \\
                        '    java.runtime.version = %1$d.0.1+9' \\
                        '    java.specification.name = Java Platform API Specification' \\
                        '    java.specification.vendor = Oracle Corporation' \\
                        '    java.specification.version = %1$d' \\
                        '    java.version = %1$d.0.1' \\
                        '    java.vm.specification.version = %1$d' \\
                        '' \\
                        'openjdk version "%1$d.0.1" (a fake for the tests)' >&2
                      exit 0
                    fi
                    printf '%%s\\n' "fake java %1$d: unexpected arguments: $*" >&2
                    exit 1
                    """.formatted(release, 44 + release, home));
            if (withJavac) {
                executable(bin.resolve("javac"), """
                        #!/bin/sh
                        printf '%%s\\n' "fake javac %d: not for compiling" >&2
                        exit 1
                        """.formatted(release));
            }
            return home;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void executable(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
