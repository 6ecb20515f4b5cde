package dev.tcpscope.connection;

import dev.tcpscope.internal.poll.Poller;
import dev.tcpscope.testing.OpenSockets;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Per test: the process holds as many socket descriptors ({@code /proc/self/fd}) after the test
 * as before it, tcpscope's and the JDK peers' alike. Waits (bounded) for descriptors closed by
 * whichever thread drops the last reference. Complements {@link OpenSockets.Check}, which checks
 * the layer's own counters per test and {@code /proc/self/fd} per class. Register it in a static
 * field with {@code @RegisterExtension} (see {@link OpenSockets} for why not {@code @ExtendWith}).
 */
public final class SocketBaseline implements BeforeEachCallback, AfterEachCallback {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SocketBaseline.class);

    @Override
    public void beforeEach(ExtensionContext context) {
        Poller.shared();
        OpenSockets.initJdkNetworking();
        context.getStore(NAMESPACE).put("sockets", OpenSockets.count());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        int before = context.getStore(NAMESPACE).get("sockets", Integer.class);
        OpenSockets.awaitCount(before);
    }
}
