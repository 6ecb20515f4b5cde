package dev.tcpscope;

import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;
import dev.tcpscope.testing.NetworkNamespace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.BindException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When every local port is taken, connect(2) fails with EADDRNOTAVAIL ("Cannot assign requested
 * address"), which says nothing about ports: the exception must say "no free local port". Checked
 * in a network namespace whose net.ipv4.ip_local_port_range is two ports wide (the sysctl is per
 * namespace), with a child JVM ({@link PortExhaustionChild}) that connects until a connect fails.
 *
 * <p>Checked: without the port wording in Errno the message was "connect to localhost/127.0.0.1:5000:
 * EADDRNOTAVAIL (Cannot assign requested address)" and the test failed. About 2 s (one child JVM).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PortExhaustionTest {

    private static final int LISTENER_PORT = 5000; // outside the range, so it takes none of its ports
    private static final int ATTEMPTS = 10;

    @Test
    void connectWithoutAFreeLocalPortSaysSo() throws Exception {
        List<String> connected = new ArrayList<>();
        String outcome;
        try (NetworkNamespace namespace = NetworkNamespace.create("tcpscope-ports")) {
            namespace.sysctl("net.ipv4.ip_local_port_range", "40000 40001");
            try (ChildProcess child = ChildJvm.of(PortExhaustionChild.class).twoCarriers()
                    .behind(namespace.exec().toArray(String[]::new))
                    .start(Integer.toString(LISTENER_PORT), Integer.toString(ATTEMPTS))) {
                String line;
                while ((line = child.nextLine()).startsWith("CONNECTED")) {
                    connected.add(line);
                }
                outcome = line;
                child.expect("DONE");
            }
        }
        String summary = connected + " then " + outcome;
        System.out.println(getClass().getSimpleName() + ": " + summary);
        assertTrue(connected.size() <= 2, () -> "more connections than ports in the range: " + summary);
        assertTrue(outcome.startsWith("FAILED " + BindException.class.getName() + " "), summary);
        assertTrue(outcome.contains("EADDRNOTAVAIL") && outcome.contains("no free local port"), summary);
        assertEquals(2, connected.size(), () -> "both ports of the range should have been used: " + summary);
    }
}
