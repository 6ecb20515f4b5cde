package dev.tcpscope.internal.poll;

import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One epoll instance and the platform thread that waits on it, turning readiness into unparks.
 *
 * <p>A socket is registered when a thread first waits on it, edge-triggered, for the direction it
 * waits for (input and peer half-close, or output; error and hang-up always), and the other
 * direction is added the first time a thread waits for it; it then stays registered until its
 * close. So no epoll_ctl happens per read or write, at most two per socket, and a socket nobody
 * waits on never wakes the poller. The event's data
 * is a key: the index of the descriptor's slot in a table in the low 32 bits and a generation
 * in the high 32. A slot is reused only with a new generation, so an event still in flight for
 * a closed descriptor never wakes the waiter of a newer one with the same number or slot (the
 * lesson of Go's issue 59545).
 *
 * <p>Events are taken out of the set by {@link PollingThreads}: a platform thread of its own that
 * sleeps in epoll_wait while the sockets are idle, and a virtual thread that polls while events
 * keep coming. Neither inherits anything from the thread that happened to start them (the JDK's
 * {@code InnocuousThread}): no inheritable thread-locals, the system class loader as context
 * class loader — so they never pin an application's class loader.
 *
 * <p><b>Failure is loud and final for the instance (fail-stop).</b> epoll_wait fails only with
 * EINTR (retried) or with EBADF, EFAULT or EINVAL, which say the poller's own state is broken and
 * never heal; and anything thrown in the loop (an Error, an exception of a bug) may have lost
 * edges that epoll_wait had already handed over, which, edge-triggered, would never come again.
 * So anything but EINTR ends the polling threads, and then, in this order: {@link #failure} is set; every
 * registered descriptor's waiters are unparked; the failure is logged (a logger that throws
 * changes nothing). A waiter checks the failure after publishing itself and before parking,
 * exactly as it checks the closed flag, so no thread parked on this poller can miss it: it wakes
 * with a {@link PollerFailedException}, as does every later wait on its descriptors and every
 * registration. {@link #shared()} then starts a new poller for new sockets, so the process goes on.
 *
 * <p>Restarting the thread with the registrations intact was the alternative; it would need every
 * registration re-signalled (edges lost with the failed iteration), and a limit on restarts for an
 * error that persists (a second mechanism, and a decision when to give up). Fail-stop has one
 * mechanism, proved like close: the flag first, the wake-up second, the re-check in between. The
 * epoll descriptor of a failed poller stays open, so that a late deregistration never reaches a
 * reused number; that is one descriptor per failure, which does not happen in a healthy process.
 */
public final class Poller {

    static final long UNREGISTERED = -1;

    static final int READ_EVENTS, WRITE_EVENTS, READ_INTEREST, WRITE_INTEREST, INPUT_IRREGULAR_EVENTS;
    private static final long EVENTS_OFFSET = EpollEventLayout.SELECTED.eventsOffset();
    private static final long DATA_OFFSET = EpollEventLayout.SELECTED.dataOffset();

    static {
        int in = Libc.EPOLLIN(), out = Libc.EPOLLOUT(), rdhup = Libc.EPOLLRDHUP(), pri = Libc.EPOLLPRI();
        int err = Libc.EPOLLERR(), hup = Libc.EPOLLHUP();
        READ_EVENTS = in | pri | rdhup | err | hup;
        WRITE_EVENTS = out | err | hup;
        // EPOLLPRI: TCP urgent data, at whose mark a recv stops short (SocketDescriptor.noteInputDrained).
        READ_INTEREST = in | pri | rdhup;  // EPOLLERR and EPOLLHUP are always reported
        WRITE_INTEREST = out;
        INPUT_IRREGULAR_EVENTS = pri | rdhup | err | hup;
    }

    private static volatile Poller shared;

    private final Syscalls syscalls;
    private final int epfd;
    private final ReentrantLock tableLock = new ReentrantLock();
    private volatile AtomicReferenceArray<SocketDescriptor> slots = new AtomicReferenceArray<>(1024);
    private int[] freeSlots = new int[0];   // guarded by tableLock
    private int freeCount;                  // guarded by tableLock
    private int nextUnusedSlot;             // guarded by tableLock
    private int generation;                 // guarded by tableLock
    private final AtomicLong wakeups = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>(); // set once, before any waiter is woken for it
    private final PollingThreads threads;
    private final ExitQuiescence exitQuiescence;

    /** {@return the process-wide poller, started on first use, and again if the last one failed} */
    public static Poller shared() {
        Poller p = shared;
        if (p == null || p.hasFailed()) {
            synchronized (Poller.class) {
                p = shared;
                if (p == null || p.hasFailed()) {
                    try {
                        p = start(LinuxSyscalls.INSTANCE);
                    } catch (IOException e) {
                        throw new IllegalStateException("cannot start the tcpscope poller: " + e.getMessage(), e);
                    }
                    shared = p;
                    ExitQuiescence.installHookFor(p);
                }
            }
        }
        return p;
    }

    /** {@return the process-wide poller, or {@code null} if none was started} (for the exit hook) */
    static Poller sharedIfStarted() {
        return shared;
    }

    /**
     * Starts a poller of its own whose epoll calls go through {@code syscalls}: {@link #shared()}
     * uses it with the real calls; tests inject faults into epoll_wait and epoll_ctl with it.
     *
     * @throws IOException epoll_create1 failed (e.g. EMFILE)
     */
    public static Poller start(Syscalls syscalls) throws IOException {
        Poller poller = new Poller(syscalls);
        poller.threads.start();
        return poller;
    }

    private Poller(Syscalls syscalls) throws IOException {
        this.syscalls = syscalls;
        int fd = syscalls.epollCreate1(Libc.EPOLL_CLOEXEC());
        if (fd < 0) {
            throw Errno.exception("epoll_create1", -fd, null);
        }
        this.epfd = fd;
        this.exitQuiescence = new ExitQuiescence(this, syscalls);
        try {
            this.threads = new PollingThreads(this, syscalls, fd);
        } catch (IOException | RuntimeException | Error e) {
            syscalls.close(fd);
            throw e;
        }
    }

    /** {@return how many times epoll_wait has returned: for tests that look for busy loops} */
    public long wakeups() {
        return wakeups.get();
    }

    void countWakeup() {
        wakeups.incrementAndGet();
    }

    /** {@return what stopped this poller, or {@code null} while it runs} */
    public Throwable failure() {
        return failure.get();
    }

    /** {@return how many descriptors are registered now: for accounting (no slot leaks)} */
    public int registeredCount() {
        tableLock.lock();
        try {
            return nextUnusedSlot - freeCount;
        } finally {
            tableLock.unlock();
        }
    }

    /** {@return what takes the platform thread out of epoll_wait when the JVM exits} */
    ExitQuiescence exitQuiescence() {
        return exitQuiescence;
    }

    /** {@return the poller's platform thread, for tests of what it inherits and whether it ended} */
    Thread thread() {
        return threads.platformThread();
    }

    /** {@return the poller's virtual thread, for tests of what it inherits and whether it ended} */
    Thread virtualThread() {
        return threads.virtualThread();
    }

    /**
     * Registers {@code descriptor} for {@code wanted} events (edge-triggered) if it had none
     * ({@code current} is 0), under a fresh key; else widens its registration from {@code current}
     * to {@code wanted}, under the same key. Either way epoll reports at once what is already
     * ready among {@code wanted}. The descriptor serialises its calls (see
     * {@code SocketDescriptor.ensureInterest}).
     *
     * @throws PollerFailedException this poller has failed
     */
    void addInterest(SocketDescriptor descriptor, int fd, int current, int wanted) throws IOException {
        if (current == 0) {
            register(descriptor, fd, wanted);
            return;
        }
        throwIfFailed("register");
        int result = epollCtl(Libc.EPOLL_CTL_MOD(), fd, wanted, descriptor.pollKey());
        if (result < 0) {
            throw Errno.exception("epoll_ctl(EPOLL_CTL_MOD)", -result, "fd " + fd);
        }
    }

    private void register(SocketDescriptor descriptor, int fd, int events) throws IOException {
        long key;
        tableLock.lock();
        try {
            // Checked under the lock that fail() takes after setting the flag: either the flag is
            // seen here, or fail() sees this descriptor in the table and wakes its waiters.
            Throwable f = failure.get();
            if (f != null) {
                throw new PollerFailedException("register", f);
            }
            int index;
            if (freeCount > 0) {
                index = freeSlots[--freeCount];
            } else {
                if (nextUnusedSlot >= slots.length()) {
                    grow();
                }
                index = nextUnusedSlot++;
            }
            generation++;
            key = ((long) generation << 32) | index;
            // The key is in place before epoll_ctl, so the very first edge is not dropped.
            descriptor.setPollKey(key);
            slots.set(index, descriptor);
        } finally {
            tableLock.unlock();
        }
        if (exitQuiescence.exiting()) {
            LockSupport.unpark(threads.platformThread()); // parked for the exit: poll again (ExitQuiescence)
        }
        int result = epollCtl(Libc.EPOLL_CTL_ADD(), fd, events, key);
        if (result < 0) {
            descriptor.setPollKey(UNREGISTERED);
            freeSlot(key);
            throw Errno.exception("epoll_ctl(EPOLL_CTL_ADD)", -result, "fd " + fd);
        }
    }

    /** epoll_ctl on this poller's set, edge-triggered; {@return its result (negative errno)} */
    int epollCtl(int op, int fd, int events, long key) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment event = arena.allocate(EpollEventLayout.SELECTED.layout());
            event.set(ValueLayout.JAVA_INT, EVENTS_OFFSET, events | Libc.EPOLLET());
            event.set(ValueLayout.JAVA_LONG_UNALIGNED, DATA_OFFSET, key);
            return syscalls.epollCtl(epfd, op, fd, event);
        }
    }

    /**
     * Removes a descriptor before its close(2); its slot may then serve a new generation. The
     * slot is freed even if epoll_ctl throws: an event of the old key is dropped as stale anyway.
     */
    void deregister(int fd, long key) {
        try {
            // Explicit, rather than relying on close(2): a child process between fork and exec can
            // still hold the open file description, which would keep the registration alive.
            syscalls.epollCtl(epfd, Libc.EPOLL_CTL_DEL(), fd, MemorySegment.NULL);
        } finally {
            freeSlot(key);
        }
    }

    private void freeSlot(long key) {
        int index = (int) key;
        tableLock.lock();
        try {
            slots.set(index, null);
            if (freeCount == freeSlots.length) {
                int[] bigger = new int[Math.max(64, freeSlots.length * 2)];
                System.arraycopy(freeSlots, 0, bigger, 0, freeCount);
                freeSlots = bigger;
            }
            freeSlots[freeCount++] = index;
        } finally {
            tableLock.unlock();
        }
        if (exitQuiescence.exiting()) {
            exitQuiescence.wakeIfIdle(); // the last socket is gone: the platform thread may park
        }
    }

    private void grow() {
        AtomicReferenceArray<SocketDescriptor> old = slots;
        AtomicReferenceArray<SocketDescriptor> bigger = new AtomicReferenceArray<>(old.length() * 2);
        for (int i = 0; i < old.length(); i++) {
            bigger.set(i, old.get(i));
        }
        slots = bigger;
    }

    /**
     * Stops this poller for good: the flag first, then every registered descriptor's waiters are
     * woken (they see the flag), then the log. Runs on a polling thread, as its last act; only
     * the first cause counts.
     */
    void fail(Throwable cause) {
        if (!failure.compareAndSet(null, cause)) {
            return;
        }
        AtomicReferenceArray<SocketDescriptor> table;
        int used;
        tableLock.lock();
        try {
            table = slots;
            used = nextUnusedSlot;
        } finally {
            tableLock.unlock();
        }
        for (int i = 0; i < used; i++) {
            SocketDescriptor descriptor = table.get(i);
            if (descriptor != null) {
                descriptor.wakeWaiters(); // LockSupport.unpark: allocates nothing
            }
        }
        try {
            // Looked up here, not when the class loads: finding the logging backend costs a
            // program's first connection about 10 ms, for a log that a healthy process never writes.
            System.getLogger(Poller.class.getName()).log(System.Logger.Level.ERROR,
                    "tcpscope poller failed; its connections fail with "
                    + "PollerFailedException, new ones use a new poller", cause);
        } catch (Throwable ignored) {
            // Every waiter is already awake; a failing logger must not hide that.
        }
    }

    /** {@return whether this poller has failed} */
    boolean hasFailed() {
        return failure.get() != null;
    }

    /** Throws if this poller has failed: nothing can wait for readiness on it any more. */
    void throwIfFailed(String operation) throws PollerFailedException {
        Throwable f = failure.get();
        if (f != null) {
            throw new PollerFailedException(operation, f);
        }
    }

    /**
     * Delivers one event to the descriptor its key names, unless the key is stale.
     *
     * @return whether it unparked a virtual thread
     */
    boolean dispatch(long key, int ready) {
        AtomicReferenceArray<SocketDescriptor> table = slots;
        int index = (int) key;
        if (index < 0 || index >= table.length()) {
            return false; // ExitQuiescence.WAKE_KEY among them
        }
        SocketDescriptor descriptor = table.get(index);
        // A stale event (the slot now belongs to a newer generation, or to nobody) is dropped.
        return descriptor != null && descriptor.pollKeyMatches(key) && descriptor.onEvents(ready);
    }
}
