package dev.tcpscope.internal.portable;

/**
 * Starts the JDK's virtual-thread poller while descriptors are still free.
 *
 * <p>Why: a virtual thread blocked in a channel parks in {@code sun.nio.ch.Poller}, whose static
 * initializer opens the poller's epoll (kqueue, wepoll) descriptors. The JDK starts it on the
 * first such park, and if that moment falls while the process is out of descriptors (a server
 * flooded with connections: its accept loop took every descriptor before the first handler read)
 * the initializer fails with EMFILE, the class is never usable again, and every later blocking
 * channel call of every virtual thread throws {@code NoClassDefFoundError}: a server that should
 * only have backed off aborted every connection, for the rest of the JVM's life (seen here,
 * JDK 25, {@code ServerDescriptorLimitTest} on the portable transport). The native transport has
 * its own poller, started before it accepts anything.
 *
 * <p>So the portable transport initializes that class when it is created, before it opens its
 * first channel. Loading a class of a package the JDK does not export is allowed (only access to
 * its members is not); on a JDK without that class there is nothing to do.
 */
final class JdkPollerStart {

    private static final String POLLER = "sun.nio.ch.Poller";

    private JdkPollerStart() {}

    /** Initializes the JDK's poller now, if this JDK has one by that name. */
    static void now() {
        try {
            Class.forName(POLLER, true, null);
        } catch (ClassNotFoundException e) {
            // Another JDK: its poller is not known to start lazily.
        } catch (LinkageError e) {
            // It could not start now (out of descriptors already): virtual threads' channel I/O
            // fails whatever we do; the first such call reports it to its caller.
        }
    }
}
