package dev.tcpscope.launcher;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The one Java release tcpscope is compiled for is written in several files, which must agree:
 * the launchers' search (scripts/find-jdk.sh), the compiler's release and the enforcer's range in
 * pom.xml and bench/pom.xml, and the consumer projects in src/it. A move to the next release's
 * StructuredTaskScope preview changes them all, and this test names any one forgotten.
 *
 * <p>Checked by changing one at a time: the enforcer range back to {@code [25,)}, bench's release
 * to 26, and the script's release to 26 each fail it, naming the file.
 */
class JdkVersionsAgreeTest {

    @Test
    void everyFileNamesTheSameRelease() throws IOException {
        int release = scriptRelease();
        String exactRange = "[" + release + "," + (release + 1) + ")";
        for (Path pom : List.of(Path.of("pom.xml"), Path.of("bench/pom.xml"))) {
            String text = Files.readString(pom);
            assertEquals(List.of(String.valueOf(release)), distinct(all(text, "<maven\\.compiler\\.release>(\\d+)<")),
                    pom + ": maven.compiler.release");
            assertEquals(List.of(String.valueOf(release)), distinct(all(text, "<release>(\\d+)</release>")),
                    pom + ": the compiler plugin's <release>");
            List<String> ranges = all(text, "<requireJavaVersion>\\s*<version>([^<]*)</version>");
            assertEquals(List.of(exactRange), ranges, pom + ": the enforcer's requireJavaVersion range");
        }
        try (var consumers = Files.newDirectoryStream(Path.of("src/it"), "consumer-*")) {
            int seen = 0;
            for (Path consumer : consumers) {
                String text = Files.readString(consumer.resolve("pom.xml"));
                assertEquals(List.of(String.valueOf(release)), distinct(all(text, "<release>(\\d+)</release>")),
                        consumer + "/pom.xml: the compiler plugin's <release>");
                seen++;
            }
            assertFalse(seen == 0, "no consumer projects found in src/it");
        }
    }

    @Test
    void theTestsRunOnThatRelease() throws IOException {
        // The enforcer let this build through; the JVM running the tests is the build's.
        assertEquals(scriptRelease(), Runtime.version().feature(), "the release of the JVM running the tests");
    }

    /** {@return the release in scripts/find-jdk.sh} */
    private static int scriptRelease() throws IOException {
        List<String> found = all(Files.readString(Path.of("scripts/find-jdk.sh")), "(?m)^tcpscope_java_release=(\\d+)$");
        assertEquals(1, found.size(), "scripts/find-jdk.sh must set tcpscope_java_release once: " + found);
        return Integer.parseInt(found.getFirst());
    }

    private static List<String> all(String text, String regex) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile(regex).matcher(text);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    private static List<String> distinct(List<String> values) {
        return values.stream().distinct().toList();
    }
}
