package dev.tcpscope.testing;

import java.io.IOException;
import java.util.List;

/**
 * Two {@link NetworkNamespace}s joined by a veth pair, for faults between two hosts that one
 * machine can stage: {@link #a()} has {@link #ADDRESS_A}, {@link #b()} has {@link #ADDRESS_B}
 * (a /30 of the private range 10.0.0.0/8). Both addresses and both ends of the link exist only
 * inside the two namespaces, which have no other interface than their loopback and no route
 * anywhere else: traffic between them never reaches the machine's own network. The veth pair is
 * created inside {@code a}, with its other end moved straight into {@code b}, so no interface
 * ever appears in the root namespace. {@link #close()} deletes both (and the link with them).
 *
 * <p>Needs root, like {@link NetworkNamespace#create} (skips the test when not root).
 */
public final class LinkedNamespaces implements AutoCloseable {

    /** The address of {@link #a()}, on its end of the link. */
    public static final String ADDRESS_A = "10.231.0.1";
    /** The address of {@link #b()}, on its end of the link. */
    public static final String ADDRESS_B = "10.231.0.2";

    private final NetworkNamespace a;
    private final NetworkNamespace b;

    private LinkedNamespaces(NetworkNamespace a, NetworkNamespace b) {
        this.a = a;
        this.b = b;
    }

    /** Creates the two namespaces, named after {@code prefix}, and the link between them. */
    public static LinkedNamespaces create(String prefix) throws IOException, InterruptedException {
        NetworkNamespace a = NetworkNamespace.create(prefix + "a");
        NetworkNamespace b = null;
        try {
            b = NetworkNamespace.create(prefix + "b");
            String ip = NetworkNamespace.ip();
            NetworkNamespace.run(a.exec(ip, "link", "add", "veth-a", "type", "veth", "peer", "name", "veth-b",
                    "netns", b.name()));
            NetworkNamespace.run(a.exec(ip, "addr", "add", ADDRESS_A + "/30", "dev", "veth-a"));
            NetworkNamespace.run(b.exec(ip, "addr", "add", ADDRESS_B + "/30", "dev", "veth-b"));
            NetworkNamespace.run(a.exec(ip, "link", "set", "veth-a", "up"));
            NetworkNamespace.run(b.exec(ip, "link", "set", "veth-b", "up"));
            return new LinkedNamespaces(a, b);
        } catch (IOException | RuntimeException | Error e) {
            if (b != null) {
                b.close();
            }
            a.close();
            throw e;
        }
    }

    /** {@return the first namespace, with {@link #ADDRESS_A}} */
    public NetworkNamespace a() {
        return a;
    }

    /** {@return the second namespace, with {@link #ADDRESS_B}} */
    public NetworkNamespace b() {
        return b;
    }

    /** Deletes both namespaces. */
    @Override
    public void close() throws IOException, InterruptedException {
        try {
            b.close();
        } finally {
            a.close();
        }
    }

    @Override
    public String toString() {
        return "namespaces " + List.of(a.name(), b.name()) + " linked by a veth pair";
    }
}
