package dev.tcpscope;

import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;
import dev.tcpscope.testing.CProgram;
import dev.tcpscope.testing.NetworkNamespace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 10, section 1, for a fatal error other than a reset: once the kernel has ended a
 * connection with ETIMEDOUT (TCP_USER_TIMEOUT passed while our bytes went unacknowledged), every
 * later read throws, never returns -1. Linux tells ETIMEDOUT once, to whichever call asks first
 * (here a reader and a writer on two threads); every recv after it returns 0, which must not read
 * as the peer's clean end.
 *
 * <p>The connections run in a child JVM inside a network namespace ({@link UserTimeoutChild});
 * the test drops, with nftables, every segment towards the peers' port, so the peers stop
 * acknowledging; each connection has TCP_USER_TIMEOUT 1 s, set with the public option
 * ({@code setOption(TcpOptions.TCP_USER_TIMEOUT, ...)}) and read back by the child with the
 * option number that a C probe ({@code tcp_user_timeout.c}) reads from this machine's headers, so
 * the public option is checked to be the kernel's TCP_USER_TIMEOUT (checked: with the public
 * option mapped to TCP_KEEPIDLE's number, the child refused, "option 18 reads back as 0"). {@value #CONNECTIONS} connections, half of them on
 * virtual threads; each reader reads three times, and every read must throw an exception naming
 * ETIMEDOUT.
 *
 * <p>Checked to fail against the unfixed code, which did not remember ETIMEDOUT at all: of 24
 * reads on 8 connections, 9 returned -1 (in one connection the kernel told the writer, and all
 * three reads returned -1; in three the reader was told, and its next two reads returned -1),
 * and 8 claimed "connection reset by peer" (the reader was told, then the writer's send got
 * EPIPE, which was remembered as a reset: a timeout must not read as a reset either). The class
 * runs in about 8 s (a child JVM and the 1 s timeout); the first run on a fresh machine also
 * installs nftables.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class UserTimeoutEndingTest {

    private static final int CONNECTIONS = 8;
    private static final int USER_TIMEOUT_MILLIS = 1000;

    @Test
    void afterTheUserTimeoutEveryReadThrowsNeverEndOfStream(@TempDir Path dir) throws Exception {
        int option = Integer.parseInt(CProgram.compileAndRun(UserTimeoutEndingTest.class, "tcp_user_timeout.c", dir)
                .trim());
        List<String> lines = new ArrayList<>();
        try (NetworkNamespace namespace = NetworkNamespace.create("tcpscope-ut");
             ChildProcess child = ChildJvm.of(UserTimeoutChild.class).twoCarriers()
                     .behind(namespace.exec().toArray(String[]::new))
                     .start(Integer.toString(option), Integer.toString(USER_TIMEOUT_MILLIS),
                             Integer.toString(CONNECTIONS))) {
            int peerPort = Integer.parseInt(child.expect("READY").split(" ")[1]);
            namespace.dropTcpTo(peerPort);
            child.sendLine("GO");
            for (int i = 0; i < CONNECTIONS; i++) {
                lines.add(child.expect("CONNECTION"));
            }
            child.expect("DONE");
        }

        TreeMap<String, Integer> counts = new TreeMap<>();
        List<String> bad = new ArrayList<>();
        for (String line : lines) {
            String writer = line.substring(line.indexOf(" writer=") + 8, line.indexOf(" reads="));
            counts.merge(writer.contains("send") && writer.contains("ETIMEDOUT")
                    ? "the kernel told the writer" : "the writer learnt it later", 1, Integer::sum);
            for (String read : line.substring(line.indexOf(" reads=") + 7).split(" ;; ")) {
                if (read.equals("-1")) {
                    counts.merge("read -1", 1, Integer::sum);
                    bad.add(line);
                } else if (read.endsWith(" bytes") || !read.contains("ETIMEDOUT")) {
                    counts.merge("read did not throw naming ETIMEDOUT", 1, Integer::sum);
                    bad.add(line);
                } else {
                    counts.merge("read threw, naming ETIMEDOUT", 1, Integer::sum);
                }
            }
        }
        String summary = getClass().getSimpleName() + ": " + CONNECTIONS + " connections, TCP_USER_TIMEOUT (option "
                + option + ") " + USER_TIMEOUT_MILLIS + " ms; " + counts;
        System.out.println(summary);
        lines.forEach(System.out::println);
        assertTrue(bad.isEmpty(), () -> summary + "; connections with a bad read:\n  "
                + String.join("\n  ", bad.stream().distinct().toList()));
    }
}
