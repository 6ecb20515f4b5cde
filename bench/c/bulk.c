/*
 * The physical limit of a bulk transfer over one loopback connection on this machine: a sender
 * thread writes ROUND (8 MiB) in 64 KiB writes, a receiver thread reads it in 64 KiB reads and
 * answers one byte per ROUND; blocking sockets, the same protocol as BulkTransfer.java.
 *
 *   bulk ITERATIONS SECONDS
 *
 * Warms up for one iteration, then prints one line (tab-separated) for bench/run's report:
 *   c <tab> bulk <tab> c-blocking <tab> - <tab> MiB/s <tab> sample sample ...
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loopback.h"

#define CHUNK (64 * 1024)
#define ROUND (8 * 1024 * 1024)

static void *receive(void *arg) {
    int fd = *(int *) arg;
    char *buffer = malloc(CHUNK);
    char ack = 1;
    long received = 0;
    for (;;) {
        ssize_t n = read(fd, buffer, CHUNK);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            die("read");
        }
        received += n;
        if (received == ROUND) {
            if (write(fd, &ack, 1) != 1) die("write ack");
            received = 0;
        }
    }
    close(fd);
    free(buffer);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s ITERATIONS SECONDS\n", argv[0]);
        return 2;
    }
    int iterations = atoi(argv[1]);
    double seconds = atof(argv[2]);

    int sender, receiver;
    connected_pair(&sender, &receiver);
    pthread_t thread;
    if (pthread_create(&thread, NULL, receive, &receiver) != 0) die("pthread_create");

    char *chunk = calloc(1, CHUNK);
    printf("c\tbulk\tc-blocking\t-\tMiB/s\t");
    for (int i = -1; i < iterations; i++) {          /* iteration -1 is the warm-up */
        long rounds = 0;
        double start = now(), elapsed;
        do {
            for (long sent = 0; sent < ROUND;) {
                ssize_t n = write(sender, chunk + sent % CHUNK, CHUNK - sent % CHUNK);
                if (n < 0) {
                    if (errno == EINTR) continue;
                    die("write");
                }
                sent += n;
            }
            char ack;
            if (read(sender, &ack, 1) != 1) die("read ack");
            rounds++;
            elapsed = now() - start;
        } while (elapsed < seconds);
        if (i >= 0) printf("%s%.1f", i ? " " : "", rounds * (ROUND / 1048576.0) / elapsed);
    }
    printf("\n");
    shutdown(sender, SHUT_WR);
    pthread_join(thread, NULL);
    close(sender);
    return 0;
}
