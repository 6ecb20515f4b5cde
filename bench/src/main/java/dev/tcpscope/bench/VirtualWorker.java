package dev.tcpscope.bench;

/**
 * The JMH worker of a "virtual" variant is itself a virtual thread: such benchmarks fork with
 * {@code -Djmh.executor=VIRTUAL} (JMH 1.37), and their setup calls {@link #require()} so that a
 * variant can never silently measure a platform thread instead.
 */
final class VirtualWorker {

    private VirtualWorker() {}

    static void require() {
        if (!Thread.currentThread().isVirtual()) {
            throw new IllegalStateException("this variant must run on a virtual thread: fork with -Djmh.executor=VIRTUAL");
        }
    }
}
