/*
 * The echo benchmark's load client in C, to see whether the Java load client (EchoLoadClient, one
 * selector thread in the server's JVM) is the ceiling: THREADS threads, each with its own epoll
 * and CONNECTIONS / THREADS non-blocking connections to an echo server in another process on
 * 127.0.0.1:PORT, TCP_NODELAY, one SIZE-byte message in flight per connection (the next goes out
 * as soon as the whole echo is back; no rounds). Reads the server's CPU use from /proc/PID/stat.
 *
 *   echoload PORT SERVER_PID LABEL CONNECTIONS THREADS SIZE WARMUP_SECONDS ITERATIONS SECONDS
 *
 * After the warm-up, prints six lines (tab-separated, one sample per iteration of SECONDS) for
 * bench/run's report, the unit before the samples:
 *   c <tab> echo-process <tab> LABEL <tab> connections=N <tab> msg/s <tab> ...           messages echoed per second
 *   c <tab> echo-process <tab> LABEL:server-cpu <tab> connections=N <tab> cpu-s/s ...   the server process's CPU seconds per second
 *   c <tab> echo-process <tab> LABEL:server-us <tab> connections=N <tab> us/msg ...     the server's CPU microseconds per message
 *   c <tab> echo-process <tab> LABEL:client-cpu <tab> connections=N <tab> cpu-s/s ...   this client's CPU seconds per second
 *   c <tab> echo-process <tab> LABEL:others-cpu <tab> connections=N <tab> cpu-s/s ...   the rest of the machine's busy CPU
 *   c <tab> echo-process <tab> LABEL:server-sleeps <tab> connections=N <tab> sleeps/msg ...  the server's kernel sleeps
 *       per message: voluntary context switches summed over /proc/PID/task/TID/status of its live threads
 * (server CPU from utime + stime in clock ticks, 10 ms; "others" is /proc/stat's busy time of
 * all cores minus server and client: other processes sharing the machine.)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include "loopback.h"

#define MAX_EVENTS 256

struct worker {
    pthread_t thread;
    int epoll;
    int *fds;
    int *unread;
    int count;
    long echoed;            /* read by the main thread: atomic loads and stores */
    char padding[64];
};

static int size;
static int stop;

static void die_if(int failed, const char *what) {
    if (failed) die(what);
}

static int open_connection(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    die_if(fd < 0, "socket");
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    die_if(connect(fd, (struct sockaddr *) &address, sizeof address) < 0, "connect");
    int one = 1;
    die_if(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0, "setsockopt");
    die_if(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0, "fcntl");
    return fd;
}

static void send_message(int fd, const char *message) {
    /* SIZE bytes into a connection with nothing in flight: never partial unless the server stalls. */
    ssize_t n = write(fd, message, size);
    if (n != size) {
        fprintf(stderr, "echoload: write returned %zd of %d: %s\n", n, size, n < 0 ? strerror(errno) : "partial");
        exit(1);
    }
}

static void *run(void *arg) {
    struct worker *w = arg;
    char *message = calloc(1, size);
    char buffer[64 * 1024];
    struct epoll_event events[MAX_EVENTS];
    for (int i = 0; i < w->count; i++) {
        w->unread[i] = size;
        send_message(w->fds[i], message);
    }
    long echoed = 0;
    int in_flight = w->count, stopping = 0;
    /* After the stop, no new messages: every echo in flight is read before the sockets close
       (closing with unread data would reset the connection). */
    while (in_flight > 0) {
        stopping = stopping || __atomic_load_n(&stop, __ATOMIC_RELAXED);
        int ready = epoll_wait(w->epoll, events, MAX_EVENTS, 10);
        if (ready < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int e = 0; e < ready; e++) {
            int i = events[e].data.u32;
            ssize_t n = read(w->fds[i], buffer, sizeof buffer);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) continue;
                die("read");
            }
            if (n == 0) {
                fprintf(stderr, "echoload: the server ended a connection\n");
                exit(1);
            }
            w->unread[i] -= n;
            if (w->unread[i] < 0) {
                fprintf(stderr, "echoload: a connection echoed more than it was sent\n");
                exit(1);
            }
            if (w->unread[i] == 0) {
                echoed++;
                if (stopping) {
                    in_flight--;
                } else {
                    w->unread[i] = size;
                    send_message(w->fds[i], message);
                }
            }
        }
        __atomic_store_n(&w->echoed, echoed, __ATOMIC_RELAXED);
    }
    free(message);
    return NULL;
}

/* utime + stime of process pid, in seconds. */
static double process_cpu(long pid) {
    char path[64], text[4096];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    die_if(!f, path);
    size_t length = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[length] = 0;
    char *p = strrchr(text, ')');
    die_if(!p, "/proc/PID/stat");
    unsigned long utime = 0, stime = 0;
    /* after the command: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) die("/proc/PID/stat");
    return (double) (utime + stime) / sysconf(_SC_CLK_TCK);
}

/* Voluntary context switches (the thread blocked: each one a wake-up to pay for) of every live thread of process pid. */
static long process_sleeps(long pid) {
    char path[96], line[256];
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    DIR *tasks = opendir(path);
    die_if(!tasks, path);
    long total = 0;
    struct dirent *task;
    while ((task = readdir(tasks)) != NULL) {
        if (task->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "/proc/%ld/task/%.20s/status", pid, task->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;                       /* the thread has just exited */
        long n;
        while (fgets(line, sizeof line, f)) {
            if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1) total += n;
        }
        fclose(f);
    }
    closedir(tasks);
    return total;
}

/* Busy time of all cores (user, nice, system, irq, softirq), in seconds. */
static double machine_busy(void) {
    unsigned long long user, nice, system, idle, iowait, irq, softirq;
    FILE *f = fopen("/proc/stat", "r");
    die_if(!f, "/proc/stat");
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle, &iowait, &irq, &softirq) != 7)
        die("/proc/stat");
    fclose(f);
    return (double) (user + nice + system + irq + softirq) / sysconf(_SC_CLK_TCK);
}

static double own_cpu(void) {
    struct rusage usage;
    die_if(getrusage(RUSAGE_SELF, &usage) < 0, "getrusage");
    return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static long echoed(struct worker *workers, int threads) {
    long total = 0;
    for (int t = 0; t < threads; t++) total += __atomic_load_n(&workers[t].echoed, __ATOMIC_RELAXED);
    return total;
}

static void sleep_for(double seconds) {
    struct timespec t = {.tv_sec = (time_t) seconds, .tv_nsec = (long) ((seconds - (time_t) seconds) * 1e9)};
    while (nanosleep(&t, &t) < 0 && errno == EINTR) {
    }
}

static void print_line(const char *label, const char *suffix, int connections, const char *unit,
                       const double *values, int count) {
    printf("c\techo-process\t%s%s\tconnections=%d\t%s\t", label, suffix, connections, unit);
    for (int i = 0; i < count; i++) printf("%s%.4f", i ? " " : "", values[i]);
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc != 10) {
        fprintf(stderr, "usage: %s PORT SERVER_PID LABEL CONNECTIONS THREADS SIZE WARMUP_SECONDS ITERATIONS SECONDS\n",
                argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    long pid = atol(argv[2]);
    const char *label = argv[3];
    int connections = atoi(argv[4]), threads = atoi(argv[5]);
    size = atoi(argv[6]);
    double warmup = atof(argv[7]);
    int iterations = atoi(argv[8]);
    double seconds = atof(argv[9]);
    if (threads < 1 || threads > connections) {
        fprintf(stderr, "echoload: THREADS must be between 1 and CONNECTIONS\n");
        return 2;
    }

    struct worker *workers = calloc(threads, sizeof *workers);
    for (int t = 0; t < threads; t++) {
        struct worker *w = &workers[t];
        w->count = connections / threads + (t < connections % threads);
        w->fds = calloc(w->count, sizeof *w->fds);
        w->unread = calloc(w->count, sizeof *w->unread);
        w->epoll = epoll_create1(0);
        die_if(w->epoll < 0, "epoll_create1");
        for (int i = 0; i < w->count; i++) {
            w->fds[i] = open_connection(port);
            struct epoll_event event = {.events = EPOLLIN, .data.u32 = i};
            die_if(epoll_ctl(w->epoll, EPOLL_CTL_ADD, w->fds[i], &event) < 0, "epoll_ctl");
        }
    }
    for (int t = 0; t < threads; t++) {
        die_if(pthread_create(&workers[t].thread, NULL, run, &workers[t]) != 0, "pthread_create");
    }
    sleep_for(warmup);

    double *rates = calloc(iterations, sizeof *rates), *server = calloc(iterations, sizeof *server);
    double *per_message = calloc(iterations, sizeof *per_message), *client = calloc(iterations, sizeof *client);
    double *others = calloc(iterations, sizeof *others), *sleeps = calloc(iterations, sizeof *sleeps);
    for (int i = 0; i < iterations; i++) {
        long count = echoed(workers, threads), server_sleeps = process_sleeps(pid);
        double start = now(), server_cpu = process_cpu(pid), client_cpu = own_cpu(), busy = machine_busy();
        sleep_for(seconds);
        count = echoed(workers, threads) - count;
        double elapsed = now() - start;
        double server_used = process_cpu(pid) - server_cpu, client_used = own_cpu() - client_cpu;
        rates[i] = count / elapsed;
        server[i] = server_used / elapsed;
        per_message[i] = count > 0 ? server_used / count * 1e6 : 0;
        client[i] = client_used / elapsed;
        others[i] = (machine_busy() - busy - server_used - client_used) / elapsed;
        sleeps[i] = count > 0 ? (double) (process_sleeps(pid) - server_sleeps) / count : 0;
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    for (int t = 0; t < threads; t++) {
        pthread_join(workers[t].thread, NULL);
        for (int i = 0; i < workers[t].count; i++) close(workers[t].fds[i]);
        close(workers[t].epoll);
    }
    print_line(label, "", connections, "msg/s", rates, iterations);
    print_line(label, ":server-cpu", connections, "cpu-s/s", server, iterations);
    print_line(label, ":server-us", connections, "us/msg", per_message, iterations);
    print_line(label, ":client-cpu", connections, "cpu-s/s", client, iterations);
    print_line(label, ":others-cpu", connections, "cpu-s/s", others, iterations);
    print_line(label, ":server-sleeps", connections, "sleeps/msg", sleeps, iterations);
    return 0;
}
