package dev.tcpscope.internal.poll;

import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.testing.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.ref.WeakReference;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The poller's thread lives as long as the process and is started by whichever thread first
 * touches the library: it must inherit nothing from that thread — neither its context class
 * loader nor its inheritable thread-locals — or it pins, for the life of the process, the class
 * loader of an application that happened to be first (a redeployed web application, say).
 *
 * <p>The test starts a poller from a thread whose context class loader is a fresh "application"
 * loader, and which holds that loader in an inheritable thread-local; once the starting thread
 * has ended and the test lets go of the loader, the loader must be garbage-collected.
 *
 * <p>Both polling threads count: the platform one and the virtual one (PollingThreads), and so
 * does the deadline timer's thread (DeadlineTimer), made the same way.
 *
 * <p>Checked: without {@code inheritInheritableThreadLocals(false)} on the poller's thread the
 * loader was never collected (the inherited thread-local held it). Removing only the explicit
 * {@code setContextClassLoader} left the test green: in JDK 25 a thread that does not inherit
 * thread-locals gets the system class loader as its context class loader anyway; the explicit
 * call keeps that independent of the builder flag.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PollerThreadTest {

    private static final InheritableThreadLocal<Object> APPLICATION_STATE = new InheritableThreadLocal<>();

    @Test
    void thePollerThreadPinsNoClassLoaderOfTheThreadThatStartedIt() throws Exception {
        AtomicReference<Poller> started = new AtomicReference<>();
        AtomicReference<DeadlineTimer> timer = new AtomicReference<>();
        WeakReference<ClassLoader> application = startFromAnApplicationThread(started, timer);
        Thread thread = started.get().thread();

        assertTrue(thread.isAlive() && thread.isDaemon());
        assertEquals("tcpscope-poller", thread.getName());
        assertSame(ClassLoader.getSystemClassLoader(), thread.getContextClassLoader());
        Thread virtual = started.get().virtualThread();
        assertTrue(virtual.isAlive() && virtual.isVirtual());
        assertEquals("tcpscope-poller-virtual", virtual.getName());
        assertSame(ClassLoader.getSystemClassLoader(), virtual.getContextClassLoader());
        Thread deadlines = timer.get().thread();
        assertTrue(deadlines.isAlive() && deadlines.isDaemon());
        assertEquals("tcpscope-deadlines", deadlines.getName());
        assertSame(ClassLoader.getSystemClassLoader(), deadlines.getContextClassLoader());
        Await.until(() -> "the application's class loader is still reachable: the poller thread pins it",
                Await.TIMEOUT, () -> {
                    System.gc();
                    return application.get() == null;
                });
    }

    /** Starts a poller from a thread of an "application"; returns a weak reference to its loader. */
    private static WeakReference<ClassLoader> startFromAnApplicationThread(AtomicReference<Poller> started,
            AtomicReference<DeadlineTimer> timer) throws InterruptedException {
        URLClassLoader loader = new URLClassLoader("application", new URL[0], null);
        Thread starter = Thread.ofPlatform().name("application thread").unstarted(() -> {
            APPLICATION_STATE.set(loader);
            try {
                started.set(Poller.start(LinuxSyscalls.INSTANCE));
                timer.set(DeadlineTimer.startNew());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            } finally {
                APPLICATION_STATE.remove();
            }
        });
        starter.setContextClassLoader(loader);
        starter.start();
        starter.join();
        if (started.get() == null) {
            throw new AssertionError("the poller did not start");
        }
        return new WeakReference<>(loader);
    }
}
