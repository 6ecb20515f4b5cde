package dev.tcpscope.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Every carrier of the virtual-thread scheduler held by a virtual thread that spins and never
 * parks, so that no other virtual thread can run until {@link #close()}: for tests of what must
 * still happen when the carriers are busy (platform threads served, a handler aborted once it
 * starts). The spinners give up on their own after 50 s, so that a failing test cannot hang the
 * build.
 */
public final class BusyCarriers implements AutoCloseable {

    private final List<Thread> spinners = new ArrayList<>();
    private volatile boolean released;

    private BusyCarriers() {}

    /** {@return busy carriers, once every spinner is running} */
    public static BusyCarriers hold() throws InterruptedException {
        int carriers = Integer.getInteger("jdk.virtualThreadScheduler.parallelism",
                Runtime.getRuntime().availableProcessors());
        BusyCarriers busy = new BusyCarriers();
        CountDownLatch spinning = new CountDownLatch(carriers);
        for (int i = 0; i < carriers; i++) {
            busy.spinners.add(Thread.ofVirtual().start(() -> {
                spinning.countDown();
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(50);
                while (!busy.released && System.nanoTime() - until < 0) {
                    Thread.onSpinWait(); // never parks: holds its carrier
                }
            }));
        }
        spinning.await();
        return busy;
    }

    /** {@return whether every carrier is still held (not released, no spinner gave up)} */
    public boolean stillHeld() {
        return !released && spinners.stream().allMatch(Thread::isAlive);
    }

    /** Lets the carriers go and waits for the spinners to end. */
    @Override
    public void close() throws InterruptedException {
        released = true;
        for (Thread spinner : spinners) {
            spinner.join();
        }
    }
}
