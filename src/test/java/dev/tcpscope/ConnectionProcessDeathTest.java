package dev.tcpscope;

import dev.tcpscope.peers.ConnectionHolder;
import dev.tcpscope.peers.Received;
import dev.tcpscope.testing.ChildJvm;
import dev.tcpscope.testing.ChildProcess;
import dev.tcpscope.testing.JdkPeer;
import dev.tcpscope.testing.OpenSockets;
import dev.tcpscope.testing.Seen;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A process that dies holding open connections, in any way, tells its peers with RST: abort is
 * the default state of every socket (SO_LINGER {1, 0}), and the kernel closes a dead process's
 * sockets like close(2).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConnectionProcessDeathTest {

    @RegisterExtension
    static final OpenSockets.Check OPEN_SOCKETS = OpenSockets.Check.perTest();

    enum Death {
        /** SIGKILL: {@code Process.destroyForcibly()} on Linux. */
        SIGKILL("wait", 128 + 9),
        /** {@code System.exit}: shutdown hooks run, nothing ends the connections. */
        SYSTEM_EXIT("exit", ConnectionHolder.EXIT_STATUS),
        /** {@code Runtime.halt}. */
        RUNTIME_HALT("halt", ConnectionHolder.HALT_STATUS);

        final String mode;
        final int status;

        Death(String mode, int status) {
            this.mode = mode;
            this.status = status;
        }
    }

    @ParameterizedTest
    @EnumSource(Death.class)
    void everyPeerOfADeadProcessSeesReset(Death death) throws Exception {
        try (JdkPeer.Server server = JdkPeer.Server.open();
             ChildProcess child = ChildJvm.of(ConnectionHolder.class)
                     .jvmOptions("-XX:TieredStopAtLevel=1", "-Xmx64m") // small and quick to start
                     .start(Integer.toString(server.port()), death.mode)) {
            int childPort = Integer.parseInt(child.expect("LISTENING").split(" ")[1]);
            try (JdkPeer ofAccepted = JdkPeer.connect(childPort);   // the child accepts this one
                 JdkPeer ofClient = server.accept()) {              // the child connected this one
                child.expect("READY");
                CompletableFuture<Received> fromAccepted = ofAccepted.readToEndAsync().thenApply(Received::of);
                CompletableFuture<Received> fromClient = ofClient.readToEndAsync().thenApply(Received::of);

                if (death == Death.SIGKILL) {
                    child.process().destroyForcibly();
                } else {
                    child.sendLine("die");
                }

                assertEquals(death.status, child.awaitExit(), child::describe);
                for (CompletableFuture<Received> received : java.util.List.of(fromAccepted, fromClient)) {
                    Received got = received.get(30, TimeUnit.SECONDS);
                    assertEquals(Seen.End.RESET, got.end(), () -> death + ": " + got);
                    assertTrue(got.isPattern(ConnectionHolder.BYTES), got::toString);
                }
            }
        }
    }
}
