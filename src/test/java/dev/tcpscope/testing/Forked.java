package dev.tcpscope.testing;

import org.opentest4j.AssertionFailedError;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;

/**
 * A blocking call run on its own thread (virtual or platform), whose outcome the test collects:
 * the value or exception, and whether the thread's interrupt status was still set when the call
 * ended. The test thread stays free to close, interrupt or feed the blocked call.
 *
 * <pre>{@code
 * Forked<Integer> reader = Forked.start(Forked.Kind.VIRTUAL, "reader", () -> socket.read(buf, Deadline.NONE));
 * Parked.await(reader.thread());
 * reader.thread().interrupt();
 * Forked.Outcome<Integer> outcome = reader.await();
 * outcome.assertThrowsExactly(InterruptedIOException.class);
 * assertTrue(outcome.interruptedAtEnd());
 * }</pre>
 *
 * <p>{@link #onPlatformThread} is the same for work a test composes with futures, e.g. a peer
 * that writes, then reads to the end, while the test drives the other side.
 *
 * @param <T> the call's result type
 */
public final class Forked<T> {

    /** Which kind of thread runs the call. */
    public enum Kind {
        VIRTUAL, PLATFORM;

        Thread.Builder builder() {
            return this == VIRTUAL ? Thread.ofVirtual() : Thread.ofPlatform().daemon();
        }
    }

    /** The call; may throw anything. */
    @FunctionalInterface
    public interface Body<T> {
        T call() throws Exception;
    }

    /**
     * How the call ended.
     *
     * @param value            its result, if it returned
     * @param failure          what it threw, or {@code null}
     * @param interruptedAtEnd the thread's interrupt status right after the call
     */
    public record Outcome<T>(T value, Throwable failure, boolean interruptedAtEnd) {

        /** Asserts the call returned, and returns its value. */
        public T assertReturned() {
            if (failure != null) {
                throw new AssertionFailedError("expected the call to return, but it threw " + failure, failure);
            }
            return value;
        }

        /** Asserts the call threw exactly {@code type} (not a subclass), and returns the exception. */
        public <X extends Throwable> X assertThrowsExactly(Class<X> type) {
            if (failure == null) {
                throw new AssertionFailedError("expected " + type.getName() + ", but the call returned " + value);
            }
            if (failure.getClass() != type) {
                throw new AssertionFailedError("expected exactly " + type.getName() + ", but the call threw "
                        + failure, failure);
            }
            return type.cast(failure);
        }
    }

    private static final Map<Thread, Forked<?>> BY_THREAD = Collections.synchronizedMap(new WeakHashMap<>());

    private final Thread thread;
    private final CompletableFuture<T> future = new CompletableFuture<>();
    private volatile Outcome<T> outcome;

    private Forked(Kind kind, String name, Body<T> body) {
        this.thread = kind.builder().name(name).unstarted(() -> {
            try {
                T value = body.call();
                outcome = new Outcome<>(value, null, Thread.currentThread().isInterrupted());
                future.complete(value);
            } catch (Throwable t) {
                outcome = new Outcome<>(null, t, Thread.currentThread().isInterrupted());
                future.completeExceptionally(t);
            }
        });
        BY_THREAD.put(thread, this);
    }

    /** Starts {@code body} on a new thread of {@code kind} named {@code name}. */
    public static <T> Forked<T> start(Kind kind, String name, Body<T> body) {
        Forked<T> forked = new Forked<>(kind, name, body);
        forked.thread.start();
        return forked;
    }

    /**
     * Starts {@code body} on a new daemon platform thread (independent of the virtual-thread
     * scheduler under test) named {@code name}.
     *
     * @return its result, or what it threw, as a future
     */
    public static <T> CompletableFuture<T> onPlatformThread(String name, Body<T> body) {
        return start(Kind.PLATFORM, name, body).future;
    }

    /** {@return the thread running the call} */
    public Thread thread() {
        return thread;
    }

    /** {@return the outcome if the call has ended, else {@code null}} */
    public Outcome<T> outcomeIfDone() {
        return outcome;
    }

    /** Waits up to {@link Await#TIMEOUT} for the call to end; see {@link #await(Duration)}. */
    public Outcome<T> await() throws InterruptedException {
        return await(Await.TIMEOUT);
    }

    /**
     * Waits for the call to end.
     *
     * @throws AssertionFailedError if it is still running after {@code timeout}: the call hung
     *                              (the message holds the thread's stack)
     */
    public Outcome<T> await(Duration timeout) throws InterruptedException {
        if (!thread.join(timeout)) {
            throw new AssertionFailedError(thread + " did not end within " + timeout.toMillis() + " ms; state "
                    + thread.getState() + ", stack:\n" + Parked.stack(thread));
        }
        return outcome;
    }

    /** For failure messages: how a thread started by {@link #start} ended, if known. */
    static String describeEnding(Thread thread) {
        Forked<?> forked = BY_THREAD.get(thread);
        Outcome<?> o = forked != null ? forked.outcome : null;
        if (o == null) {
            return "";
        }
        return o.failure() != null ? "; it threw " + o.failure() : "; it returned " + o.value();
    }
}
