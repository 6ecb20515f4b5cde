package dev.tcpscope.internal.poll;

import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.os.Syscalls;

/**
 * Takes a poller's platform thread out of epoll_wait when the JVM exits with no socket
 * registered, so that the exit does not wait for it.
 *
 * <p><b>Why.</b> At its final safepoint HotSpot waits for every thread that is in native code to
 * come back, 10 ms at a time, up to 300 ms for an application thread
 * ({@code VM_Exit::wait_for_threads_in_native_to_block}). A thread blocked in a downcall, as the
 * platform polling thread is in epoll_wait(-1), never comes back by itself, so every process that
 * had used tcpscope took 300 ms longer to exit: measured with strace, the VM thread slept 30 times
 * 10 ms after {@code main} returned; a program that made one connection spent more time exiting
 * than connecting. (The JDK's own virtual-thread sockets pay the same: its pollers block in
 * epoll_wait through JNI. Its blocking sockets on platform threads do not, having no poller.)
 *
 * <p><b>How.</b> A shutdown hook ({@link #installHookFor}) marks the shared poller as exiting. From
 * then on, while no socket is registered, the platform thread parks in Java (a parked thread is
 * not in native) instead of waiting in epoll_wait; a registration unparks it (another shutdown
 * hook may still connect), and the deregistration that leaves none wakes it again. A poller
 * published once the JVM is exiting (first started by another hook, or replacing a failed one) is
 * marked as it starts ({@link #begin} may then run twice: the second wakes the thread once more,
 * harmlessly). Nothing changes
 * before the hook runs, and a process that exits with live connections still waits: its other
 * hooks may still be using them, and no hook runs after the others.
 *
 * <p><b>The wake-up uses calls already linked.</b> The library has no eventfd binding: one would
 * add two function shapes to link (eventfd and write, 12-25 ms each), at start-up or at the exit.
 * A TCP socket that was never connected is hung up
 * (Linux's tcp_poll reports EPOLLHUP in state CLOSE, whatever the interest), so adding it to the
 * sockets' epoll set puts an event there at once, and re-arming its registration (EPOLL_CTL_MOD,
 * as the hand-back set is re-armed) puts another. Its key, {@link #WAKE_KEY}, names no slot:
 * {@link Poller#dispatch} drops it. It is made on the first wake-up and kept for the poller's
 * life. Best effort: if it cannot be made (EMFILE), the thread stays in epoll_wait and the exit
 * waits, as before.
 */
final class ExitQuiescence {

    /** The wake-up socket's event key: a negative slot index, which dispatch drops. */
    static final long WAKE_KEY = -1L;

    private static Thread hook; // guarded by ExitQuiescence.class; set once, when registered
    private static volatile boolean processExiting; // the hook has run, or could not be registered

    private final Poller poller;
    private final Syscalls syscalls;
    private volatile boolean exiting;
    private int wakeSocket = -1; // guarded by this

    ExitQuiescence(Poller poller, Syscalls syscalls) {
        this.poller = poller;
        this.syscalls = syscalls;
    }

    /**
     * Registers, once per process, the hook that marks the shared poller as exiting; called by
     * {@link Poller#shared()} after it has published a new poller. A poller published once the
     * JVM is exiting (first started by another shutdown hook, or replacing one that failed) is
     * marked at once: the hook sets {@link #processExiting} before it reads the shared poller,
     * and the caller reads the flag after publishing, so one of the two marks it.
     */
    static void installHookFor(Poller published) {
        synchronized (ExitQuiescence.class) {
            if (hook == null && !processExiting) {
                Thread h = PollingThreads.innocuous(Thread.ofPlatform().name("tcpscope-exit"), () -> {
                    processExiting = true;
                    Poller shared = Poller.sharedIfStarted();
                    if (shared != null) {
                        shared.exitQuiescence().begin();
                    }
                });
                try {
                    Runtime.getRuntime().addShutdownHook(h);
                    hook = h;
                } catch (IllegalStateException shutdownInProgress) {
                    processExiting = true; // no hook will run: this poller is marked below
                }
            }
        }
        if (processExiting) {
            published.exitQuiescence().begin();
        }
    }

    /** {@return the registered shutdown hook, or {@code null} if none was registered} (for tests) */
    static synchronized Thread hook() {
        return hook;
    }

    /** The JVM is exiting: from now on the platform thread does not wait in epoll_wait while idle. */
    void begin() {
        exiting = true;
        wakeIfIdle();
    }

    /** {@return whether the JVM is exiting} (a volatile read: called on every registration) */
    boolean exiting() {
        return exiting;
    }

    /** {@return whether the platform thread should park instead of waiting in epoll_wait} */
    boolean idle() {
        return exiting && poller.registeredCount() == 0;
    }

    /** Wakes the platform thread out of epoll_wait if the JVM is exiting and no socket is registered. */
    void wakeIfIdle() {
        if (idle()) {
            wake();
        }
    }

    private synchronized void wake() {
        if (wakeSocket < 0) {
            int fd = syscalls.socket(Libc.AF_INET(), Libc.SOCK_STREAM() | Libc.SOCK_CLOEXEC(), 0);
            if (fd < 0) {
                return; // best effort: see the class comment
            }
            if (poller.epollCtl(Libc.EPOLL_CTL_ADD(), fd, Libc.EPOLLIN(), WAKE_KEY) < 0) {
                syscalls.close(fd);
                return;
            }
            wakeSocket = fd;
        } else {
            poller.epollCtl(Libc.EPOLL_CTL_MOD(), wakeSocket, Libc.EPOLLIN(), WAKE_KEY);
        }
    }
}
