package dev.tcpscope.launcher;

import dev.tcpscope.launcher.JdkSearch.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which JDK ./tcpscope and bench/run choose (scripts/find-jdk.sh), and what they say when there is
 * none: exactly a JDK 25 — the release whose StructuredTaskScope preview API the library is
 * compiled against — never a newer or older one. Fake JDKs ({@link FakeJdk}) stand for 21 and 26,
 * which cannot be installed here; nothing runs Maven.
 *
 * <p>Checked by breaking the script: accepting any release {@code >= 25} (the old rule) fails
 * {@link #aNewerJavaHomeGivesWayToAJdk25}, {@link #theJavacOnPathIsTriedLast} (the fake 26 was
 * picked), {@link #onlyNewerAndOlderJdksStopWithTheReason} (exit 0) and
 * {@link #bothLaunchersStopBeforeBuilding}; dropping the note fails
 * {@link #aNewerJavaHomeGivesWayToAJdk25}; skipping the javac on PATH fails
 * {@link #theJavacOnPathIsTriedLast}; ./tcpscope with its old private copy of the search
 * (restored from git) fails {@link #bothLaunchersStopBeforeBuilding} (it went on to ./mvnw).
 */
class FindJdkTest {

    @TempDir
    Path work;

    @Test
    void aJavaHomeOf25IsPicked() {
        Path jdk25 = FakeJdk.jdk(work, "jdk-25", 25);
        Path jdk26 = FakeJdk.jdk(work, "jdk-26", 26);
        Outcome out = new JdkSearch(work).javaHome(jdk25).candidates(jdk26).findJdk();
        assertEquals(0, out.exitStatus(), out::toString);
        assertEquals(List.of("picked " + jdk25), out.stdout(), out::toString);
        assertEquals("", out.stderr(), "nothing to say when JAVA_HOME is right");
    }

    @Test
    void aNewerJavaHomeGivesWayToAJdk25() {
        Path jdk26 = FakeJdk.jdk(work, "jdk-26", 26);
        Path jdk21 = FakeJdk.jdk(work, "jdk-21", 21);
        Path jdk25 = FakeJdk.jdk(work, "jdk-25", 25);
        Outcome out = new JdkSearch(work).javaHome(jdk26).candidates(jdk26, jdk21, jdk25).findJdk();
        assertEquals(0, out.exitStatus(), out::toString);
        assertEquals(List.of("picked " + jdk25), out.stdout(), out::toString);
        // One line that says what was wrong with JAVA_HOME, why, and what is used instead.
        assertEquals(1, out.stderr().lines().count(), out::toString);
        assertTrue(out.stderr().startsWith("tcpscope: JAVA_HOME=" + jdk26 + " is JDK 26, but tcpscope needs JDK 25"),
                out::toString);
        assertTrue(out.stderr().contains("preview API"), out::toString);
        assertTrue(out.stderr().contains("using " + jdk25), out::toString);
    }

    @Test
    void onlyNewerAndOlderJdksStopWithTheReason() {
        Path jdk26 = FakeJdk.jdk(work, "jdk-26", 26);
        Path jdk21 = FakeJdk.jdk(work, "jdk-21", 21);
        Outcome out = new JdkSearch(work).candidates(jdk26, jdk21).findJdk();
        assertEquals(1, out.exitStatus(), out::toString);
        assertEquals(List.of(), out.stdout(), "no JDK may be printed: " + out);
        String err = out.stderr();
        assertTrue(err.startsWith("tcpscope: needs a JDK 25, exactly, and found none."), out::toString);
        assertTrue(err.contains(jdk26 + " is JDK 26") && err.contains(jdk21 + " is JDK 21"),
                "names what it found: " + out);
        assertReasonAndRemedy(err);
    }

    @Test
    void nothingFoundStopsWithTheReason() {
        Outcome out = new JdkSearch(work).candidates().findJdk();
        assertEquals(1, out.exitStatus(), out::toString);
        assertEquals(List.of(), out.stdout(), out::toString);
        assertTrue(out.stderr().startsWith("tcpscope: needs a JDK 25, exactly, and found none.\n"), out::toString);
        assertFalse(out.stderr().contains("Found:"), out::toString);
        assertReasonAndRemedy(out.stderr());
    }

    @Test
    void aJavaHomeWithoutJavacIsNotAJdk() {
        Path jre25 = FakeJdk.jre(work, "jre-25", 25);
        Outcome out = new JdkSearch(work).javaHome(jre25).candidates(jre25).findJdk();
        assertEquals(1, out.exitStatus(), out::toString);
        assertTrue(out.stderr().contains("Found: JAVA_HOME=" + jre25 + " is not a JDK."), out::toString);
        assertReasonAndRemedy(out.stderr());
    }

    @Test
    void theJavacOnPathIsTriedLast() throws IOException {
        Path jdk26 = FakeJdk.jdk(work, "jdk-26", 26);
        Path jdk25 = FakeJdk.jdk(work, "jdk-25", 25);
        // Like /usr/bin/javac, a link into the JDK: the JDK is the link target's grandparent.
        Path bin = Files.createDirectories(work.resolve("usr-bin"));
        Files.createSymbolicLink(bin.resolve("javac"), jdk25.resolve("bin/javac"));
        Outcome out = new JdkSearch(work).candidates(jdk26).path(bin).findJdk();
        assertEquals(0, out.exitStatus(), out::toString);
        assertEquals(List.of("picked " + jdk25.toRealPath()), out.stdout(), out::toString);
    }

    @Test
    void bothLaunchersStopBeforeBuilding() {
        Path jdk26 = FakeJdk.jdk(work, "jdk-26", 26);
        // Were the search not to stop them, ./mvnw would fail for want of a java on this PATH.
        Outcome tcpscope = new JdkSearch(work).javaHome(jdk26).candidates(jdk26).launcher("tcpscope", "demo");
        assertEquals(1, tcpscope.exitStatus(), tcpscope::toString);
        assertTrue(tcpscope.stderr().startsWith("tcpscope: needs a JDK 25, exactly, and found none. Found: JAVA_HOME="
                + jdk26 + " is JDK 26."), tcpscope::toString);
        assertReasonAndRemedy(tcpscope.stderr());

        Outcome bench = new JdkSearch(work).javaHome(jdk26).candidates(jdk26).launcher("bench/run", "smoke");
        assertEquals(1, bench.exitStatus(), bench::toString);
        assertTrue(bench.stderr().startsWith("bench/run: needs a JDK 25, exactly, and found none."), bench::toString);
        assertReasonAndRemedy(bench.stderr());
    }

    /** The message says why 25 exactly (the preview API) and where to get one. */
    private static void assertReasonAndRemedy(String err) {
        assertTrue(err.contains("StructuredTaskScope, a preview API in JDK 25"), err);
        assertTrue(err.contains("preview class files run only on the release that compiled them"), err);
        assertTrue(err.contains("Install a JDK 25, e.g. Temurin 25"), err);
        assertTrue(err.contains("set JAVA_HOME"), err);
    }
}
