package dev.tcpscope.bench.sleeps;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Voluntary context switches of this whole process: how often any of its threads went to sleep
 * in the kernel (blocked in a system call, parked on a futex, waited in epoll_wait...) rather than
 * being preempted. Read with getrusage(RUSAGE_SELF) through FFM: its {@code ru_nvcsw} sums every
 * thread of the process, those that already exited included. ({@code /proc/self/status} counts
 * the main thread only; summing {@code /proc/self/task/*}{@code /status} misses exited threads —
 * {@link #main} prints both to compare.)
 */
public final class ContextSwitches {

    private static final int RUSAGE_SELF = 0;
    /** struct rusage on 64-bit Linux: two struct timeval (16 bytes each), then 14 longs. */
    private static final long RUSAGE_SIZE = 2 * 16 + 14 * 8;
    /** ru_nvcsw is the 13th long: after ru_maxrss ... ru_nsignals. */
    private static final long RU_NVCSW_OFFSET = 2 * 16 + 12 * 8;

    private static final MethodHandle GETRUSAGE = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("getrusage").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));

    private ContextSwitches() {}

    /** {@return voluntary context switches of every thread of this process so far} */
    public static long voluntary() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment usage = arena.allocate(RUSAGE_SIZE, 8);
            int result = (int) GETRUSAGE.invokeExact(RUSAGE_SELF, usage);
            if (result != 0) {
                throw new IllegalStateException("getrusage failed: " + result);
            }
            return usage.get(ValueLayout.JAVA_LONG, RU_NVCSW_OFFSET);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@return the sum of voluntary_ctxt_switches over the live threads in /proc/self/task} */
    public static long voluntaryOfLiveThreads() {
        long sum = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                try {
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            sum += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                } catch (NoSuchFileException exited) {
                    // the thread ended while we listed: its count is lost, as for every exited thread
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return sum;
    }

    /** Prints both counts, for a check that they agree (getrusage ≥ the live threads' sum). */
    public static void main(String[] args) {
        System.out.println("getrusage ru_nvcsw: " + voluntary() + ", /proc/self/task sum: " + voluntaryOfLiveThreads());
    }
}
