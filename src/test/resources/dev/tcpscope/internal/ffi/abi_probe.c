/*
 * ABI probe for AbiProbeTest: prints, as "NAME VALUE" lines, what a C compiler says about every
 * constant, struct and type size that the jextract bindings in dev.tcpscope.internal.ffi.x86_64
 * (and, for struct epoll_event on aarch64, dev.tcpscope.internal.ffi.aarch64) rely on.
 * AbiProbeTest compiles it twice: with this machine's gcc, and with aarch64-linux-gnu-gcc
 * (-static) to run under qemu-aarch64. It compares each line with the generated Java code, in
 * both directions: a constant that jextract/includes.txt gains must be added here too, or the
 * test fails.
 *
 * Keys:  CONSTANT value | sizeof:T | alignof:T | offsetof:T.field | fieldsize:T.field
 *        target:ARCH 1          the architecture the compiler targeted
 *        uname.machine:NAME 1   what uname(2) said when the probe ran (under qemu: qemu's answer)
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <arpa/inet.h>
#include <sys/utsname.h>
#include <sys/uio.h>
#include <sys/sendfile.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

/* Constants are printed through long long; the test compares them with the Java value
   modulo the width of the Java type (EPOLLET is 1u << 31, an int with the sign bit set). */
#define C(name) printf("%s %lld\n", #name, (long long) (name))

#define SIZE(key, type) printf("sizeof:%s %zu\n", key, sizeof(type))
#define STRUCT(tag, type) \
    printf("sizeof:%s %zu\n", tag, sizeof(type)); \
    printf("alignof:%s %zu\n", tag, _Alignof(type))
#define FIELD(tag, type, field) \
    printf("offsetof:%s.%s %zu\n", tag, #field, offsetof(type, field)); \
    printf("fieldsize:%s.%s %zu\n", tag, #field, sizeof(((type *) 0)->field))
/* a member of an anonymous aggregate nested in type at member `outer` */
#define INNER(tag, type, outer, field) \
    printf("offsetof:%s.%s %zu\n", tag, #field, \
           offsetof(type, outer.field) - offsetof(type, outer)); \
    printf("fieldsize:%s.%s %zu\n", tag, #field, sizeof(((type *) 0)->outer.field))

int main(void) {
    /* which ABI this is, and what the kernel (or the emulator) calls the machine */
#if defined(__x86_64__)
    printf("target:x86_64 1\n");
#elif defined(__aarch64__)
    printf("target:aarch64 1\n");
#else
    printf("target:unknown 1\n");
#endif
    struct utsname u;
    if (uname(&u) != 0) {
        perror("uname");
        return 1;
    }
    printf("uname.machine:%s 1\n", u.machine);

    /* sockets */
    C(AF_INET); C(AF_INET6); C(AF_UNSPEC);
    C(SOCK_STREAM); C(SOCK_NONBLOCK); C(SOCK_CLOEXEC);
    C(IPPROTO_TCP); C(IPPROTO_IPV6); C(IPPROTO_IP);
    C(SOL_SOCKET); C(SO_LINGER); C(SO_REUSEADDR); C(SO_REUSEPORT); C(SO_KEEPALIVE); C(SO_RCVBUF);
    C(SO_SNDBUF); C(SO_ERROR); C(SO_TYPE);
    C(TCP_NODELAY); C(TCP_KEEPIDLE); C(TCP_KEEPINTVL); C(TCP_KEEPCNT); C(TCP_USER_TIMEOUT);
    C(IPV6_V6ONLY); C(IPV6_TCLASS); C(IP_TOS);
    C(SHUT_RD); C(SHUT_WR); C(SHUT_RDWR);
    C(MSG_NOSIGNAL); C(MSG_PEEK); C(MSG_DONTWAIT);
    C(SOMAXCONN);

    /* ioctl requests */
    C(SIOCOUTQ); C(SIOCINQ); C(SIOCOUTQNSD); C(FIONREAD);

    /* epoll */
    C(EPOLLIN); C(EPOLLOUT); C(EPOLLERR); C(EPOLLHUP); C(EPOLLRDHUP); C(EPOLLPRI); C(EPOLLET);
    C(EPOLLONESHOT);
    C(EPOLL_CTL_ADD); C(EPOLL_CTL_MOD); C(EPOLL_CTL_DEL); C(EPOLL_CLOEXEC);

    /* fcntl */
    C(F_GETFD); C(F_GETFL); C(FD_CLOEXEC); C(O_NONBLOCK);

    /* errno */
    C(EPERM); C(ENOENT); C(EINTR); C(EBADF); C(EAGAIN); C(EWOULDBLOCK); C(ENOMEM);
    C(EACCES); C(EFAULT); C(EEXIST); C(EINVAL); C(ENFILE); C(EMFILE); C(ENOSPC);
    C(ENONET); C(EPROTO);
    C(EPIPE); C(ENOTSOCK); C(EDESTADDRREQ); C(EPROTOTYPE); C(ENOPROTOOPT);
    C(EPROTONOSUPPORT); C(EOPNOTSUPP); C(EAFNOSUPPORT); C(EADDRINUSE);
    C(EADDRNOTAVAIL); C(ENETDOWN); C(ENETUNREACH); C(ENETRESET); C(ECONNABORTED);
    C(ECONNRESET); C(ENOBUFS); C(EISCONN); C(ENOTCONN); C(ESHUTDOWN); C(ETIMEDOUT);
    C(ECONNREFUSED); C(EHOSTDOWN); C(EHOSTUNREACH); C(EALREADY); C(EINPROGRESS);

    /* zero-copy and vectored I/O (issue 15) */
    C(O_RDONLY); C(O_CLOEXEC);
    C(SPLICE_F_MOVE); C(SPLICE_F_NONBLOCK); C(SPLICE_F_MORE);
    C(IOV_MAX); C(UIO_MAXIOV);
    C(TCP_INFO); C(TCP_CLOSE);
    C(EIO); C(EISDIR); C(ENOTDIR); C(ELOOP); C(ENAMETOOLONG); C(EOVERFLOW); C(ESPIPE);

    /* C types behind the layouts the bindings use */
    SIZE("short", short);
    SIZE("int", int);
    SIZE("long", long);
    SIZE("pointer", void *);
    SIZE("socklen_t", socklen_t);
    SIZE("sa_family_t", sa_family_t);
    SIZE("in_port_t", in_port_t);
    SIZE("size_t", size_t);
    SIZE("ssize_t", ssize_t);
    SIZE("ioctl_request", unsigned long);
    /* the cell behind sendfile's off_t * (FileSend.OFF_T; splice is called with NULL offsets) */
    SIZE("off_t", off_t);

    /* structs and unions */
    STRUCT("sockaddr", struct sockaddr);
    FIELD("sockaddr", struct sockaddr, sa_family);
    FIELD("sockaddr", struct sockaddr, sa_data);

    STRUCT("in_addr", struct in_addr);
    FIELD("in_addr", struct in_addr, s_addr);

    STRUCT("sockaddr_in", struct sockaddr_in);
    FIELD("sockaddr_in", struct sockaddr_in, sin_family);
    FIELD("sockaddr_in", struct sockaddr_in, sin_port);
    FIELD("sockaddr_in", struct sockaddr_in, sin_addr);
    FIELD("sockaddr_in", struct sockaddr_in, sin_zero);

    STRUCT("in6_addr", struct in6_addr);
    FIELD("in6_addr", struct in6_addr, __in6_u);
    STRUCT("in6_addr.__in6_u", __typeof__(((struct in6_addr *) 0)->__in6_u));
    INNER("in6_addr.__in6_u", struct in6_addr, __in6_u, __u6_addr8);
    INNER("in6_addr.__in6_u", struct in6_addr, __in6_u, __u6_addr16);
    INNER("in6_addr.__in6_u", struct in6_addr, __in6_u, __u6_addr32);

    STRUCT("sockaddr_in6", struct sockaddr_in6);
    FIELD("sockaddr_in6", struct sockaddr_in6, sin6_family);
    FIELD("sockaddr_in6", struct sockaddr_in6, sin6_port);
    FIELD("sockaddr_in6", struct sockaddr_in6, sin6_flowinfo);
    FIELD("sockaddr_in6", struct sockaddr_in6, sin6_addr);
    FIELD("sockaddr_in6", struct sockaddr_in6, sin6_scope_id);

    STRUCT("sockaddr_storage", struct sockaddr_storage);
    FIELD("sockaddr_storage", struct sockaddr_storage, ss_family);
    FIELD("sockaddr_storage", struct sockaddr_storage, __ss_padding);
    FIELD("sockaddr_storage", struct sockaddr_storage, __ss_align);

    STRUCT("linger", struct linger);
    FIELD("linger", struct linger, l_onoff);
    FIELD("linger", struct linger, l_linger);

    STRUCT("epoll_data", union epoll_data);
    FIELD("epoll_data", union epoll_data, ptr);
    FIELD("epoll_data", union epoll_data, fd);
    FIELD("epoll_data", union epoll_data, u32);
    FIELD("epoll_data", union epoll_data, u64);

    STRUCT("epoll_event", struct epoll_event);
    FIELD("epoll_event", struct epoll_event, events);
    FIELD("epoll_event", struct epoll_event, data);

    /* tcpi_state, the one field of struct tcp_info read (LostResetCheck) */
    printf("offsetof:tcp_info.tcpi_state %zu\n", offsetof(struct tcp_info, tcpi_state));
    printf("fieldsize:tcp_info.tcpi_state %zu\n", sizeof(((struct tcp_info *) 0)->tcpi_state));

    STRUCT("iovec", struct iovec);
    FIELD("iovec", struct iovec, iov_base);
    FIELD("iovec", struct iovec, iov_len);

    STRUCT("utsname", struct utsname);
    FIELD("utsname", struct utsname, sysname);
    FIELD("utsname", struct utsname, nodename);
    FIELD("utsname", struct utsname, release);
    FIELD("utsname", struct utsname, version);
    FIELD("utsname", struct utsname, machine);
    FIELD("utsname", struct utsname, domainname);

    return ferror(stdout) ? 1 : 0;
}
