package dev.tcpscope;

import dev.tcpscope.internal.os.Errno;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The accept loop of a {@link TcpServer}: takes a permit (at most {@code maxConnections}
 * connections hold one), accepts, and hands the connection on; survives accept errors, backing
 * off on a timer when out of descriptors (EMFILE, ENFILE) or on an unknown error instead of
 * spinning. (The errors of a single pending connection, such as ECONNABORTED, are retried by
 * {@link TcpListener#accept()} and never reach it.)
 */
final class AcceptLoop {

    private static final System.Logger LOG = System.getLogger(TcpServer.class.getName());
    private static final long FIRST_BACKOFF_NANOS = 10_000_000L;
    private static final long LONGEST_BACKOFF_NANOS = 1_000_000_000L;

    private final TcpListener listener;
    private final Semaphore permits;
    private final ServerCounters counters;
    private final BooleanSupplier shuttingDown;

    AcceptLoop(TcpListener listener, Semaphore permits, ServerCounters counters, BooleanSupplier shuttingDown) {
        this.listener = listener;
        this.permits = permits;
        this.counters = counters;
        this.shuttingDown = shuttingDown;
    }

    /**
     * Accepts until shutdown (or the listener is closed), passing each connection, with its
     * permit, to {@code serve}.
     *
     * @return whether the serving thread was interrupted (its interrupt status is cleared)
     */
    boolean run(Consumer<TcpConnection> serve) {
        long backoff = FIRST_BACKOFF_NANOS;
        while (!shuttingDown.getAsBoolean()) {
            try {
                permits.acquire();
            } catch (InterruptedException e) {
                return true;
            }
            if (shuttingDown.getAsBoolean()) {
                return false;
            }
            TcpConnection connection;
            try {
                connection = listener.accept();
                counters.acceptAttempt();
                backoff = FIRST_BACKOFF_NANOS;
            } catch (ConnectionClosedException e) {
                permits.release();
                return false; // the listener was closed: shutdown
            } catch (InterruptedIOException e) {
                // tcpscope I/O keeps the interrupt status set; clear it, as the other ways out
                // of this loop do, or the drain period's wait would end at once.
                Thread.interrupted();
                permits.release();
                return true;
            } catch (IOException | RuntimeException e) {
                permits.release();
                counters.acceptAttempt();
                counters.acceptError();
                // Errors of one pending connection (ECONNABORTED and the others accept(2) lists)
                // never get here: TcpListener.accept retries them. What does is out of descriptors
                // (EMFILE, ENFILE) or unknown: pause instead of spinning.
                boolean exhausted = e instanceof SystemCallException s && Errno.isDescriptorExhaustion(s);
                LOG.log(exhausted ? System.Logger.Level.WARNING : System.Logger.Level.ERROR,
                        "accept failed, backing off " + Duration.ofNanos(backoff) + ": " + e.getMessage());
                counters.backoff();
                LockSupport.parkNanos(this, backoff);
                if (Thread.interrupted()) {
                    return true;
                }
                backoff = Math.min(backoff * 2, LONGEST_BACKOFF_NANOS);
                continue;
            }
            counters.accepted(connection);
            serve.accept(connection);
        }
        return false;
    }
}
