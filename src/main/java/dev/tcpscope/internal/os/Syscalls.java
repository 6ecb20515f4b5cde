package dev.tcpscope.internal.os;

import java.lang.foreign.MemorySegment;

/**
 * The operating-system calls tcpscope makes, one method per call, each named after its man page.
 *
 * <p>Every method returns what the call returns when it succeeds (a descriptor, a byte count, 0)
 * and {@code -errno} when it fails, so that "would block" and "interrupted" are plain values on
 * the hot path, never exceptions. {@link Errno} is the one place that turns a negative result
 * into an exception.
 *
 * <p>The production implementation is {@link LinuxSyscalls}. Tests substitute a decorator that
 * injects an errno into any call; that is why the layers above take a {@code Syscalls} instead
 * of calling the bindings directly.
 */
public interface Syscalls {

    /** socket(2). */
    int socket(int domain, int type, int protocol);

    /** connect(2); {@code address} holds a sockaddr of {@code length} bytes. */
    int connect(int fd, MemorySegment address, int length);

    /** bind(2). */
    int bind(int fd, MemorySegment address, int length);

    /** listen(2). */
    int listen(int fd, int backlog);

    /**
     * accept4(2); {@code address} receives the peer's sockaddr and {@code lengthInOut} (a
     * socklen_t) its length.
     */
    int accept4(int fd, MemorySegment address, MemorySegment lengthInOut, int flags);

    /** getsockopt(2); {@code lengthInOut} is a socklen_t. */
    int getsockopt(int fd, int level, int option, MemorySegment value, MemorySegment lengthInOut);

    /** setsockopt(2). */
    int setsockopt(int fd, int level, int option, MemorySegment value, int length);

    /** getsockname(2). */
    int getsockname(int fd, MemorySegment address, MemorySegment lengthInOut);

    /** getpeername(2). */
    int getpeername(int fd, MemorySegment address, MemorySegment lengthInOut);

    /** shutdown(2). */
    int shutdown(int fd, int how);

    /**
     * close(2). Never retried on EINTR: on Linux the descriptor is released even then, and its
     * number may already belong to another connection.
     */
    int close(int fd);

    /**
     * The most bytes one {@link #recv} or {@link #send} moves to or from a heap segment (a native
     * segment's call is not bounded); why, in {@code LinuxSyscalls.MAX_CRITICAL_BYTES}.
     */
    long MAX_HEAP_BYTES_PER_CALL = 128 * 1024;

    /**
     * {@return how many bytes one {@link #recv} or {@link #send} asks for with {@code buffer}}: all
     * of a native segment, at most {@link #MAX_HEAP_BYTES_PER_CALL} of a heap one. A recv that
     * returns fewer found the receive queue empty.
     */
    static long bytesPerCall(MemorySegment buffer) {
        return buffer.isNative() ? buffer.byteSize() : Math.min(buffer.byteSize(), MAX_HEAP_BYTES_PER_CALL);
    }

    /**
     * recv(2) with no flags into {@code buffer}, which may be a heap or a native segment (the
     * call cannot block: every socket here is non-blocking). Asks for {@link #bytesPerCall} bytes
     * and returns what recv(2) returned: the socket layer takes fewer bytes than asked for as a
     * receive queue that the call left empty (see {@code SocketDescriptor.noteInputDrained}).
     */
    long recv(int fd, MemorySegment buffer);

    /**
     * send(2) of {@code buffer} with MSG_NOSIGNAL, so that writing to a reset peer returns EPIPE
     * instead of raising SIGPIPE; heap or native segment. One call, one system call; it may send
     * fewer bytes than asked (a short count, as send(2) may), and callers loop.
     */
    long send(int fd, MemorySegment buffer);

    /** ioctl(2) with a request whose argument is a pointer to an int (SIOCINQ, SIOCOUTQ). */
    int ioctl(int fd, long request, MemorySegment intOut);

    /** fcntl(2) with a command that takes no argument (F_GETFD, F_GETFL). */
    int fcntl(int fd, int command);

    /** epoll_create1(2). */
    int epollCreate1(int flags);

    /** epoll_ctl(2); {@code event} is a struct epoll_event, or NULL for EPOLL_CTL_DEL. */
    int epollCtl(int epfd, int op, int fd, MemorySegment event);

    /**
     * epoll_wait(2). Blocks in native code for up to {@code timeoutMillis}: only the poller's
     * own platform thread calls it, never a virtual thread.
     */
    int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMillis);

    // ---------------------------------------------------------------- vectored and zero-copy I/O
    // The calls below take no MSG_NOSIGNAL (writev, sendfile and splice have no flags argument for
    // it): writing to a reset peer raises SIGPIPE, which the JVM's own handler absorbs (as it does
    // for the JDK's channels, whose writev and sendfile share the hazard), and the call returns EPIPE.

    /**
     * writev(2) of {@code count} {@code struct iovec} at {@code iov}, a native segment whose
     * entries point into native memory. One call may write fewer bytes than asked.
     */
    long writev(int fd, MemorySegment iov, int count);

    /** readv(2) into {@code count} {@code struct iovec} at {@code iov} (as {@link #writev}). */
    long readv(int fd, MemorySegment iov, int count);

    /**
     * sendfile(2) of up to {@code count} bytes from {@code inFd} at the offset held in
     * {@code offset} (a native off_t cell, which the kernel advances) to {@code outFd}; 0 at the
     * end of the file.
     */
    long sendfile(int outFd, int inFd, MemorySegment offset, long count);

    /**
     * splice(2) of up to {@code length} bytes from {@code fdIn} to {@code fdOut}, one of them a
     * pipe, both without an offset (NULL: a socket or a pipe).
     */
    long splice(int fdIn, int fdOut, long length, int flags);

    /** pipe2(2); {@code fds} receives two ints, the read end first. */
    int pipe2(MemorySegment fds, int flags);

    /**
     * open(2) of the NUL-terminated {@code path} with {@code flags}, never O_CREAT (no mode is
     * passed).
     */
    int open(MemorySegment path, int flags);
}
