package dev.tcpscope.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The fault suite's report: one line of figures per row, printed and appended to
 * {@code target/fault-report.txt} (which {@code ./tcpscope faults} empties before the run and
 * prints after it). A row writes its line before asserting, so that a failing row still shows
 * its figures, marked {@code FAIL}.
 */
final class FaultReport {

    static final Path FILE = Path.of("target", "fault-report.txt");

    private FaultReport() {}

    /** Records the figures of {@code row}; {@code pass} says whether its pass condition held. */
    static synchronized void row(String row, boolean pass, String figures) {
        String line = String.format("%-28s %s  %s%n", row, pass ? "pass" : "FAIL", figures);
        System.out.print(line);
        try {
            Files.createDirectories(FILE.getParent());
            Files.writeString(FILE, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + FILE, e);
        }
    }
}
