/*
 * For KernelSocketView: prints the socket options of another process's socket, as the kernel
 * holds them, without going through tcpscope or the JDK. Arguments: pid, fd. The descriptor is
 * duplicated into this process with pidfd_getfd(2) (Linux 5.6; needs ptrace access to the
 * process: root, or CAP_SYS_PTRACE), then each option is read with getsockopt(2).
 * Output: one "NAME value" line per option; a getsockopt that fails prints "NAME error <errno>".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static void print_int(int fd, const char *name, int level, int option) {
    int value = 0;
    socklen_t length = sizeof value;
    if (getsockopt(fd, level, option, &value, &length) != 0) {
        printf("%s error %d\n", name, errno);
    } else {
        printf("%s %d\n", name, value);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PID FD\n", argv[0]);
        return 2;
    }
    int pidfd = (int) syscall(SYS_pidfd_open, atoi(argv[1]), 0);
    if (pidfd < 0) {
        perror("pidfd_open");
        return 1;
    }
    int fd = (int) syscall(SYS_pidfd_getfd, pidfd, atoi(argv[2]), 0);
    if (fd < 0) {
        perror("pidfd_getfd");
        return 1;
    }
    print_int(fd, "TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY);
    print_int(fd, "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE);
    print_int(fd, "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF);
    print_int(fd, "SO_SNDBUF", SOL_SOCKET, SO_SNDBUF);
    print_int(fd, "SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT);
    print_int(fd, "IP_TOS", IPPROTO_IP, IP_TOS);
    print_int(fd, "IPV6_TCLASS", IPPROTO_IPV6, IPV6_TCLASS);
    print_int(fd, "TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE);
    print_int(fd, "TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL);
    print_int(fd, "TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT);
    print_int(fd, "TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT);
    struct linger l = {0, 0};
    socklen_t length = sizeof l;
    if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &length) != 0) {
        printf("SO_LINGER error %d\n", errno);
    } else {
        printf("SO_LINGER_ONOFF %d\nSO_LINGER_SECONDS %d\n", l.l_onoff, l.l_linger);
    }
    close(fd);
    return 0;
}
