/*
 * The physical limit of a ping-pong round trip on this machine: two threads of one process,
 * blocking sockets on loopback, TCP_NODELAY, the client writes SIZE bytes and reads them back,
 * the server echoes. No event loop, no runtime: what the kernel costs.
 *
 *   pingpong SIZE ITERATIONS SECONDS
 *
 * Every round trip is timed. Warms up for one iteration, then prints four lines (tab-separated)
 * for bench/run's report, like JMH's sample mode: the mean, the median and the 99th percentile
 * round trip of each iteration of SECONDS, in microseconds, and the process's voluntary context
 * switches (getrusage(RUSAGE_SELF) ru_nvcsw, both threads) per round trip of each iteration:
 *   c <tab> pingpong <tab> c-blocking <tab> bytes=SIZE <tab> us/op <tab> mean mean ...
 *   c <tab> pingpong <tab> c-blocking:p0.50 <tab> bytes=SIZE <tab> us/op <tab> median median ...
 *   c <tab> pingpong <tab> c-blocking:p0.99 <tab> bytes=SIZE <tab> us/op <tab> p99 p99 ...
 *   c <tab> pingpong <tab> c-blocking:sleeps <tab> bytes=SIZE <tab> sleeps/rt <tab> figure figure ...
 * (JMH's percentiles pool every iteration's samples; these are per iteration, then averaged.)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loopback.h"

static int size;

static long voluntary_switches(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) < 0) die("getrusage");
    return usage.ru_nvcsw;
}

static void print_line(const char *variant, const char *unit, const double *values, int count) {
    printf("c\tpingpong\t%s\tbytes=%d\t%s\t", variant, size, unit);
    for (int i = 0; i < count; i++) printf("%s%.4f", i ? " " : "", values[i]);
    printf("\n");
}

static int compare(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static int read_fully(int fd, char *buffer, int length) {
    int received = 0;
    while (received < length) {
        ssize_t n = read(fd, buffer + received, length - received);
        if (n == 0) return 0;
        if (n < 0) {
            if (errno == EINTR) continue;
            die("read");
        }
        received += n;
    }
    return 1;
}

static void write_fully(int fd, const char *buffer, int length) {
    int sent = 0;
    while (sent < length) {
        ssize_t n = write(fd, buffer + sent, length - sent);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("write");
        }
        sent += n;
    }
}

static void *echo(void *arg) {
    int fd = *(int *) arg;
    char *buffer = malloc(size);
    while (read_fully(fd, buffer, size)) {
        write_fully(fd, buffer, size);
    }
    close(fd);
    free(buffer);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s SIZE ITERATIONS SECONDS\n", argv[0]);
        return 2;
    }
    size = atoi(argv[1]);
    int iterations = atoi(argv[2]);
    double seconds = atof(argv[3]);
    int one = 1;

    int client, server;
    connected_pair(&client, &server);
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pthread_t thread;
    if (pthread_create(&thread, NULL, echo, &server) != 0) die("pthread_create");

    char *message = calloc(1, size), *reply = malloc(size);
    long capacity = 1 << 20;
    double *times = malloc(capacity * sizeof *times);
    double *means = calloc(iterations, sizeof *means), *medians = calloc(iterations, sizeof *medians);
    double *p99s = calloc(iterations, sizeof *p99s), *sleeps = calloc(iterations, sizeof *sleeps);
    for (int i = -1; i < iterations; i++) {          /* iteration -1 is the warm-up */
        long count = 0;
        long switches = voluntary_switches();
        double start = now(), end = start;
        do {
            double before = end;
            write_fully(client, message, size);
            if (!read_fully(client, reply, size)) die("echo ended");
            end = now();
            if (count == capacity) {
                capacity *= 2;
                times = realloc(times, capacity * sizeof *times);
                if (!times) die("realloc");
            }
            times[count++] = end - before;
        } while (end - start < seconds);
        switches = voluntary_switches() - switches;
        if (i >= 0) {
            qsort(times, count, sizeof *times, compare);
            means[i] = (end - start) / count * 1e6;
            medians[i] = times[count / 2] * 1e6;
            p99s[i] = times[(long) (count * 0.99)] * 1e6;
            sleeps[i] = (double) switches / count;
        }
    }
    print_line("c-blocking", "us/op", means, iterations);
    print_line("c-blocking:p0.50", "us/op", medians, iterations);
    print_line("c-blocking:p0.99", "us/op", p99s, iterations);
    print_line("c-blocking:sleeps", "sleeps/rt", sleeps, iterations);
    shutdown(client, SHUT_WR);
    pthread_join(thread, NULL);
    close(client);
    return 0;
}
