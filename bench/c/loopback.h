/*
 * What both C baselines share: failing loudly, a monotonic clock, and a connected pair of
 * blocking TCP sockets over loopback (an ephemeral port; nothing but 127.0.0.1 is bound).
 */
#ifndef TCPSCOPE_BENCH_LOOPBACK_H
#define TCPSCOPE_BENCH_LOOPBACK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
    perror(what);
    exit(1);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* Connects *client to *server through a listener on 127.0.0.1, then closes the listener. */
static inline void connected_pair(int *client, int *server) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0) die("socket");
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    if (bind(listener, (struct sockaddr *) &address, sizeof address) < 0) die("bind");
    if (listen(listener, 1) < 0) die("listen");
    if (getsockname(listener, (struct sockaddr *) &address, &length) < 0) die("getsockname");
    *client = socket(AF_INET, SOCK_STREAM, 0);
    if (*client < 0) die("socket");
    if (connect(*client, (struct sockaddr *) &address, sizeof address) < 0) die("connect");
    *server = accept(listener, NULL, NULL);
    if (*server < 0) die("accept");
    close(listener);
}

#endif
