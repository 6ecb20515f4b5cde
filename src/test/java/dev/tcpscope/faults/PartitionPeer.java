package dev.tcpscope.faults;

import dev.tcpscope.peers.PythonPeer;
import dev.tcpscope.testing.ChildProcess;
import dev.tcpscope.testing.NetworkNamespace;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts {@code partition_peer.py} (see the script) inside a namespace: the partition rows' peer. */
final class PartitionPeer {

    private static Path script;

    private PartitionPeer() {}

    /** {@return the running script, listening on {@code host} for {@code count} connections} */
    static ChildProcess start(NetworkNamespace namespace, String host, int count) throws IOException {
        List<String> command = new ArrayList<>(namespace.exec("python3", "-u", script().toString(), host,
                Integer.toString(count)));
        return ChildProcess.start("the partition peer", command);
    }

    private static synchronized Path script() throws IOException {
        if (script == null) {
            script = PythonPeer.copyOfScript(PartitionPeer.class, "partition_peer.py");
        }
        return script;
    }
}
