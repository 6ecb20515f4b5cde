/*
 * Input header for jextract (see generate.sh): the Linux/glibc socket, TCP, epoll,
 * ioctl, fcntl, errno, uname, vectored I/O (sys/uio.h), sendfile and splice declarations that tcpscope's FFM layer calls.
 * jextract/includes.txt filters the result down to the symbols actually used.
 *
 * generate.sh passes -D _GNU_SOURCE, which accept4 needs. Under _GNU_SOURCE, however,
 * <sys/socket.h> declares the `struct sockaddr *` parameters of bind, connect, accept4,
 * getsockname and getpeername as a GCC transparent union (__SOCKADDR_ARG), which jextract
 * would turn into a union passed by value. sys/socket.h picks the plain-pointer form
 * when __GNUC_PREREQ (2, 7) is false, so that macro is switched off around that one
 * include. Everything sys/socket.h includes is either included beforehand or does not
 * use __GNUC_PREREQ (glibc 2.36), so nothing else is affected.
 */
#include <sys/types.h>

#pragma push_macro("__GNUC_PREREQ")
#undef __GNUC_PREREQ
#define __GNUC_PREREQ(maj, min) 0
#include <sys/socket.h>
#pragma pop_macro("__GNUC_PREREQ")

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
