package dev.tcpscope.internal.os;

import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.SystemCallException;
import dev.tcpscope.internal.ffi.x86_64.Libc;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.util.HashMap;
import java.util.Map;

/**
 * The errno values tcpscope reacts to, and the one place where a failed call becomes an
 * exception (Netty's {@code Errors}, socket2's {@code syscall!}).
 *
 * <p>EAGAIN, EINPROGRESS and EINTR never reach {@link #exception}: the socket layer parks on
 * the first two and retries the last. The one exception is EAGAIN from connect, which is not
 * "would block" there (see {@link #exception}). Values come from the generated bindings, which a test
 * checks against the C headers.
 */
public final class Errno {

    public static final int EPERM = Libc.EPERM();
    public static final int ENOENT = Libc.ENOENT();
    public static final int EINTR = Libc.EINTR();
    public static final int EBADF = Libc.EBADF();
    public static final int EAGAIN = Libc.EAGAIN();
    public static final int ENOMEM = Libc.ENOMEM();
    public static final int EACCES = Libc.EACCES();
    public static final int EFAULT = Libc.EFAULT();
    public static final int EEXIST = Libc.EEXIST();
    public static final int EINVAL = Libc.EINVAL();
    public static final int ENFILE = Libc.ENFILE();
    public static final int EMFILE = Libc.EMFILE();
    public static final int EPIPE = Libc.EPIPE();
    public static final int ENOTSOCK = Libc.ENOTSOCK();
    public static final int ENONET = Libc.ENONET();
    public static final int EPROTO = Libc.EPROTO();
    public static final int ENOPROTOOPT = Libc.ENOPROTOOPT();
    public static final int EOPNOTSUPP = Libc.EOPNOTSUPP();
    public static final int EAFNOSUPPORT = Libc.EAFNOSUPPORT();
    public static final int EADDRINUSE = Libc.EADDRINUSE();
    public static final int EADDRNOTAVAIL = Libc.EADDRNOTAVAIL();
    public static final int ENETDOWN = Libc.ENETDOWN();
    public static final int ENETUNREACH = Libc.ENETUNREACH();
    public static final int ENETRESET = Libc.ENETRESET();
    public static final int ECONNABORTED = Libc.ECONNABORTED();
    public static final int ECONNRESET = Libc.ECONNRESET();
    public static final int ENOBUFS = Libc.ENOBUFS();
    public static final int EISCONN = Libc.EISCONN();
    public static final int ENOTCONN = Libc.ENOTCONN();
    public static final int ESHUTDOWN = Libc.ESHUTDOWN();
    public static final int ETIMEDOUT = Libc.ETIMEDOUT();
    public static final int ECONNREFUSED = Libc.ECONNREFUSED();
    public static final int EHOSTDOWN = Libc.EHOSTDOWN();
    public static final int EHOSTUNREACH = Libc.EHOSTUNREACH();
    public static final int EALREADY = Libc.EALREADY();
    public static final int EINPROGRESS = Libc.EINPROGRESS();
    // open(2) and the file side of sendfile(2)
    public static final int EIO = Libc.EIO();
    public static final int EISDIR = Libc.EISDIR();
    public static final int ENOTDIR = Libc.ENOTDIR();
    public static final int ELOOP = Libc.ELOOP();
    public static final int ENAMETOOLONG = Libc.ENAMETOOLONG();
    public static final int EOVERFLOW = Libc.EOVERFLOW();
    public static final int ESPIPE = Libc.ESPIPE();

    private record Description(String name, String text) {}

    private static final Map<Integer, Description> DESCRIPTIONS = new HashMap<>();

    static {
        describe(EPERM, "EPERM", "Operation not permitted");
        describe(ENOENT, "ENOENT", "No such file or directory");
        describe(EINTR, "EINTR", "Interrupted system call");
        describe(EBADF, "EBADF", "Bad file descriptor");
        describe(EAGAIN, "EAGAIN", "Resource temporarily unavailable");
        describe(ENOMEM, "ENOMEM", "Cannot allocate memory");
        describe(EACCES, "EACCES", "Permission denied");
        describe(EFAULT, "EFAULT", "Bad address");
        describe(EEXIST, "EEXIST", "File exists");
        describe(EINVAL, "EINVAL", "Invalid argument");
        describe(ENFILE, "ENFILE", "Too many open files in system");
        describe(EMFILE, "EMFILE", "Too many open files");
        describe(EPIPE, "EPIPE", "Broken pipe");
        describe(ENOTSOCK, "ENOTSOCK", "Socket operation on non-socket");
        describe(ENONET, "ENONET", "Machine is not on the network");
        describe(EPROTO, "EPROTO", "Protocol error");
        describe(ENOPROTOOPT, "ENOPROTOOPT", "Protocol not available");
        describe(EOPNOTSUPP, "EOPNOTSUPP", "Operation not supported");
        describe(EAFNOSUPPORT, "EAFNOSUPPORT", "Address family not supported by protocol");
        describe(EADDRINUSE, "EADDRINUSE", "Address already in use");
        describe(EADDRNOTAVAIL, "EADDRNOTAVAIL", "Cannot assign requested address");
        describe(ENETDOWN, "ENETDOWN", "Network is down");
        describe(ENETUNREACH, "ENETUNREACH", "Network is unreachable");
        describe(ENETRESET, "ENETRESET", "Network dropped connection on reset");
        describe(ECONNABORTED, "ECONNABORTED", "Software caused connection abort");
        describe(ECONNRESET, "ECONNRESET", "Connection reset by peer");
        describe(ENOBUFS, "ENOBUFS", "No buffer space available");
        describe(EISCONN, "EISCONN", "Transport endpoint is already connected");
        describe(ENOTCONN, "ENOTCONN", "Transport endpoint is not connected");
        describe(ESHUTDOWN, "ESHUTDOWN", "Cannot send after transport endpoint shutdown");
        describe(ETIMEDOUT, "ETIMEDOUT", "Connection timed out");
        describe(ECONNREFUSED, "ECONNREFUSED", "Connection refused");
        describe(EHOSTDOWN, "EHOSTDOWN", "Host is down");
        describe(EHOSTUNREACH, "EHOSTUNREACH", "No route to host");
        describe(EALREADY, "EALREADY", "Operation already in progress");
        describe(EINPROGRESS, "EINPROGRESS", "Operation now in progress");
        describe(EIO, "EIO", "Input/output error");
        describe(EISDIR, "EISDIR", "Is a directory");
        describe(ENOTDIR, "ENOTDIR", "Not a directory");
        describe(ELOOP, "ELOOP", "Too many levels of symbolic links");
        describe(ENAMETOOLONG, "ENAMETOOLONG", "File name too long");
        describe(EOVERFLOW, "EOVERFLOW", "Value too large for defined data type");
        describe(ESPIPE, "ESPIPE", "Illegal seek");
    }

    private static void describe(int errno, String name, String text) {
        DESCRIPTIONS.put(errno, new Description(name, text));
    }

    private Errno() {}

    /** {@return the symbolic name of an errno value, e.g. "ECONNRESET", or "errno N"} */
    public static String name(int errno) {
        Description d = DESCRIPTIONS.get(errno);
        return d != null ? d.name() : "errno " + errno;
    }

    /** {@return e.g. "ECONNREFUSED (Connection refused)"} */
    public static String describe(int errno) {
        Description d = DESCRIPTIONS.get(errno);
        return d != null ? d.name() + " (" + d.text() + ")" : "errno " + errno;
    }

    /**
     * {@return whether {@code e} reports that the process or system ran out of descriptors} By
     * name, since the portable transport knows the name but not the errno (-1).
     */
    public static boolean isDescriptorExhaustion(SystemCallException e) {
        return e.errnoName().equals("EMFILE") || e.errnoName().equals("ENFILE");
    }

    /**
     * {@return whether accept4 failing with {@code errno} is to be retried at once} accept(2),
     * "Error handling": Linux passes errors already pending on the new connection to accept4,
     * and for TCP/IP the application should treat ENETDOWN, EPROTO, ENOPROTOOPT, EHOSTDOWN,
     * ENONET, EHOSTUNREACH, EOPNOTSUPP and ENETUNREACH like EAGAIN by retrying; ECONNABORTED
     * (the peer reset a connection still in the queue) is the same kind. Each of them is about
     * one dequeued connection, never about the listener.
     */
    public static boolean isAcceptRetryable(int errno) {
        return errno == ECONNABORTED || errno == ENETDOWN || errno == EPROTO || errno == ENOPROTOOPT
                || errno == EHOSTDOWN || errno == ENONET || errno == EHOSTUNREACH || errno == EOPNOTSUPP
                || errno == ENETUNREACH;
    }

    /**
     * Turns the failure of {@code call} into the exception a Java user expects.
     *
     * @param call    the system call, e.g. "connect"
     * @param errno   the (positive) errno value
     * @param context what it was doing it to, e.g. "127.0.0.1:8080", or {@code null}
     * @return the exception; the caller throws it
     */
    public static IOException exception(String call, int errno, String context) {
        boolean connect = call.equals("connect");
        if ((errno == EAGAIN && !connect) || errno == EINTR || errno == EINPROGRESS) {
            // These drive the poller or a retry loop; reaching here is a bug in the caller.
            throw new IllegalStateException(call + " returned " + name(errno) + " to the error path");
        }
        String message = call + (context != null ? " " + context : "") + ": " + describe(errno);
        if (connect && errno == EADDRNOTAVAIL) {
            // connect(2): every port of the ephemeral range (net.ipv4.ip_local_port_range) is in
            // use towards this destination. Not a bind to a foreign address: bind reports that.
            return new BindException(message + ": no free local port");
        }
        if (connect && errno == EAGAIN) {
            // Not "would block" (a non-blocking connect says EINPROGRESS): connect(2) documents
            // it for TCP as "insufficient entries in the routing cache", and kernels before 3.x
            // reported port exhaustion with it. Typed, so that a caller can see the errno.
            return new SystemCallException(message + ": no free local port or routing cache entry",
                    call, errno, name(errno));
        }
        if (errno == ECONNRESET || errno == EPIPE) {
            return new ConnectionResetException(message);
        }
        if (errno == ECONNREFUSED || (call.equals("connect") && errno == ETIMEDOUT)) {
            return new ConnectException(message);
        }
        if (errno == EHOSTUNREACH || errno == ENETUNREACH) {
            return new NoRouteToHostException(message);
        }
        if (errno == EADDRINUSE || errno == EADDRNOTAVAIL) {
            return new BindException(message);
        }
        return new SystemCallException(message, call, errno, name(errno));
    }
}
