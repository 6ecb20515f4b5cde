package dev.tcpscope.examples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every Java block in README.md must stand, line by line and in order, in ReadmeSamples.java,
 * which the build compiles: a README sample that no longer compiles fails this test.
 */
class ReadmeSamplesTest {

    @Test
    void everyReadmeJavaBlockIsCompiledInReadmeSamples() throws IOException {
        List<String> readme = Files.readAllLines(Path.of("README.md"));
        List<String> samples = trimmed(Files.readAllLines(
                Path.of("examples/src/main/java/dev/tcpscope/examples/ReadmeSamples.java")));
        List<List<String>> blocks = javaBlocks(readme);
        assertFalse(blocks.isEmpty(), "README.md has no ```java blocks");
        for (List<String> block : blocks) {
            int at = 0;
            for (String line : trimmed(block)) {
                int found = samples.subList(at, samples.size()).indexOf(line);
                if (found < 0) {
                    fail("README.md sample line not found (in order) in ReadmeSamples.java: \"" + line
                            + "\"\nin block:\n" + String.join("\n", block));
                }
                at += found + 1;
            }
        }
    }

    private static List<List<String>> javaBlocks(List<String> lines) {
        List<List<String>> blocks = new ArrayList<>();
        List<String> current = null;
        for (String line : lines) {
            if (current == null && line.strip().equals("```java")) {
                current = new ArrayList<>();
            } else if (current != null && line.strip().equals("```")) {
                blocks.add(current);
                current = null;
            } else if (current != null) {
                current.add(line);
            }
        }
        return blocks;
    }

    private static List<String> trimmed(List<String> lines) {
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            String t = line.strip().replaceAll("\\s+", " ");
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }
}
