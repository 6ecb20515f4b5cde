package dev.tcpscope.internal.poll;

import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.ffi.x86_64.epoll_event;
import dev.tcpscope.internal.os.Errno;
import dev.tcpscope.internal.os.LinuxSyscalls;
import dev.tcpscope.internal.os.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One epoll instance and the platform thread that waits on it, turning readiness into unparks.
 *
 * <p>Each socket is registered once, for its whole life, edge-triggered for input, output,
 * peer half-close, error and hang-up; no epoll_ctl happens per read or write. The event's data
 * is a key: the index of the descriptor's slot in a table in the low 32 bits and a generation
 * in the high 32. A slot is reused only with a new generation, so an event still in flight for
 * a closed descriptor never wakes the waiter of a newer one with the same number or slot (the
 * lesson of Go's issue 59545).
 *
 * <p>The thread blocks in epoll_wait, in native code: it is a platform thread of its own, never a
 * virtual thread's carrier. An unexpected exception while dispatching one event is logged and
 * the loop goes on, so that one failure never strands every waiter.
 */
public final class Poller {

    static final long UNREGISTERED = -1;

    static final int READ_EVENTS, WRITE_EVENTS, INTEREST;
    private static final long EVENT_SIZE = epoll_event.layout().byteSize();
    private static final long EVENTS_OFFSET = epoll_event.events$offset();
    private static final long DATA_OFFSET = epoll_event.data$offset();
    private static final int MAX_EVENTS = 512;
    private static final System.Logger LOG = System.getLogger(Poller.class.getName());

    static {
        int in = Libc.EPOLLIN(), out = Libc.EPOLLOUT(), rdhup = Libc.EPOLLRDHUP();
        int err = Libc.EPOLLERR(), hup = Libc.EPOLLHUP();
        READ_EVENTS = in | rdhup | err | hup;
        WRITE_EVENTS = out | err | hup;
        INTEREST = in | out | rdhup | Libc.EPOLLET();
    }

    private static volatile Poller shared;

    private final Syscalls syscalls;
    private final int epfd;
    private final ReentrantLock tableLock = new ReentrantLock();
    private volatile AtomicReferenceArray<SocketDescriptor> slots = new AtomicReferenceArray<>(1024);
    private int[] freeSlots = new int[0];
    private int freeCount;
    private int nextUnusedSlot;
    private int generation;
    private final AtomicLong wakeups = new AtomicLong();
    private final Thread thread;

    /** {@return the process-wide poller, started on first use} */
    public static Poller shared() {
        Poller p = shared;
        if (p == null) {
            synchronized (Poller.class) {
                p = shared;
                if (p == null) {
                    try {
                        p = new Poller(LinuxSyscalls.INSTANCE);
                    } catch (IOException e) {
                        throw new IllegalStateException("cannot start the tcpscope poller: " + e.getMessage(), e);
                    }
                    shared = p;
                }
            }
        }
        return p;
    }

    private Poller(Syscalls syscalls) throws IOException {
        this.syscalls = syscalls;
        int fd = syscalls.epollCreate1(Libc.EPOLL_CLOEXEC());
        if (fd < 0) {
            throw Errno.exception("epoll_create1", -fd, null);
        }
        this.epfd = fd;
        this.thread = Thread.ofPlatform().daemon().name("tcpscope-poller").unstarted(this::run);
        thread.start();
    }

    /** {@return how many times epoll_wait has returned: for tests that look for busy loops} */
    public long wakeups() {
        return wakeups.get();
    }

    /** Adds the descriptor to the epoll set for its whole life, under a fresh key. */
    void register(SocketDescriptor descriptor, int fd) throws IOException {
        long key;
        tableLock.lock();
        try {
            int index;
            if (freeCount > 0) {
                index = freeSlots[--freeCount];
            } else {
                index = nextUnusedSlot++;
                if (index >= slots.length()) {
                    grow();
                }
            }
            generation++;
            key = ((long) generation << 32) | index;
            // The key is in place before epoll_ctl, so the very first edge is not dropped.
            descriptor.setPollKey(key);
            slots.set(index, descriptor);
        } catch (RuntimeException | Error e) {
            tableLock.unlock();
            throw e;
        }
        tableLock.unlock();
        int result;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment event = arena.allocate(epoll_event.layout());
            event.set(ValueLayout.JAVA_INT, EVENTS_OFFSET, INTEREST);
            event.set(ValueLayout.JAVA_LONG_UNALIGNED, DATA_OFFSET, key);
            result = syscalls.epollCtl(epfd, Libc.EPOLL_CTL_ADD(), fd, event);
        }
        if (result < 0) {
            descriptor.setPollKey(UNREGISTERED);
            freeSlot(key);
            throw Errno.exception("epoll_ctl(EPOLL_CTL_ADD)", -result, "fd " + fd);
        }
    }

    /** Removes a descriptor before its close(2); its slot may then serve a new generation. */
    void deregister(int fd, long key) {
        // Explicit, rather than relying on close(2): a child process between fork and exec can
        // still hold the open file description, which would keep the registration alive.
        syscalls.epollCtl(epfd, Libc.EPOLL_CTL_DEL(), fd, MemorySegment.NULL);
        freeSlot(key);
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
    }

    private void grow() {
        AtomicReferenceArray<SocketDescriptor> old = slots;
        AtomicReferenceArray<SocketDescriptor> bigger = new AtomicReferenceArray<>(old.length() * 2);
        for (int i = 0; i < old.length(); i++) {
            bigger.set(i, old.get(i));
        }
        slots = bigger;
    }

    private void run() {
        MemorySegment events = Arena.global().allocate(EVENT_SIZE * MAX_EVENTS, 8);
        while (true) {
            int n = syscalls.epollWait(epfd, events, MAX_EVENTS, -1);
            wakeups.incrementAndGet();
            if (n < 0) {
                if (-n != Errno.EINTR) {
                    // Not expected on a valid epoll descriptor; pause so a persistent error is
                    // logged every 100 ms instead of spinning the poller thread.
                    LOG.log(System.Logger.Level.ERROR, "epoll_wait failed: " + Errno.describe(-n));
                    java.util.concurrent.locks.LockSupport.parkNanos(100_000_000L);
                }
                continue;
            }
            for (int i = 0; i < n; i++) {
                long offset = i * EVENT_SIZE;
                int ready = events.get(ValueLayout.JAVA_INT_UNALIGNED, offset + EVENTS_OFFSET);
                long key = events.get(ValueLayout.JAVA_LONG_UNALIGNED, offset + DATA_OFFSET);
                try {
                    dispatch(key, ready);
                } catch (Throwable t) {
                    LOG.log(System.Logger.Level.ERROR, "tcpscope poller: dispatch failed", t);
                }
            }
        }
    }

    /** Delivers one event to the descriptor its key names, unless the key is stale. */
    void dispatch(long key, int ready) {
        AtomicReferenceArray<SocketDescriptor> table = slots;
        int index = (int) key;
        if (index < 0 || index >= table.length()) {
            return;
        }
        SocketDescriptor descriptor = table.get(index);
        // A stale event (the slot now belongs to a newer generation, or to nobody) is dropped.
        if (descriptor != null && descriptor.pollKeyMatches(key)) {
            descriptor.onEvents(ready);
        }
    }
}
