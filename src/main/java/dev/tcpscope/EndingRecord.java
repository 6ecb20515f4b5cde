package dev.tcpscope;

import dev.tcpscope.internal.transport.StreamSocket;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * How a connection ended, recorded exactly once, and its one observer (a scope, a server).
 *
 * <p>It is also the connection's {@link java.lang.ref.Cleaner} action, the backstop that aborts a
 * connection that became unreachable without an ending: so it must never refer to the
 * {@link TcpConnection} itself, only to its socket.
 */
final class EndingRecord implements Runnable {

    private final StreamSocket socket;
    private final long startNanos;
    private final CompletableFuture<ConnectionEnding> ending = new CompletableFuture<>();
    private final AtomicReference<Consumer<ConnectionEnding>> observer = new AtomicReference<>();

    EndingRecord(StreamSocket socket, long startNanos) {
        this.socket = socket;
        this.startNanos = startNanos;
    }

    /** Records the ending unless one was recorded already; {@return the ending that stands} */
    ConnectionEnding record(ConnectionEnding.Mode mode, String reason, Throwable cause, FinishResult finish) {
        ConnectionEnding e = new ConnectionEnding(mode, reason, cause, socket.bytesRead(), socket.bytesWritten(),
                Duration.ofNanos(System.nanoTime() - startNanos), finish);
        if (ending.complete(e)) {
            Consumer<ConnectionEnding> o = observer.get();
            if (o != null) {
                notify(o, e);
            }
        }
        return ending.join();
    }

    /** Registers the one observer; it is called once, at once if the ending is already recorded. */
    void observe(Consumer<ConnectionEnding> o) {
        if (!observer.compareAndSet(null, o)) {
            throw new IllegalStateException("the connection's ending is already observed");
        }
        ConnectionEnding e = ending.getNow(null);
        if (e != null) {
            notify(o, e);
        }
    }

    private static void notify(Consumer<ConnectionEnding> o, ConnectionEnding e) {
        try {
            o.accept(e);
        } catch (RuntimeException ex) {
            System.getLogger(TcpConnection.class.getName())
                    .log(System.Logger.Level.WARNING, "ending observer failed", ex);
        }
    }

    /** {@return the ending, or null while there is none} */
    ConnectionEnding recorded() {
        return ending.getNow(null);
    }

    /** Waits for the ending; an interrupt does not cut it short (every ending is bounded) but is kept. */
    ConnectionEnding await() {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return ending.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    throw new IllegalStateException(e);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The Cleaner's action: the connection became unreachable. */
    @Override
    public void run() {
        if (ending.isDone()) {
            return;
        }
        String reason = "unreachable without an ending: aborted by the backstop";
        socket.close("aborted: " + reason, null);
        record(ConnectionEnding.Mode.ABORTED, reason, null, new FinishResult(FinishResult.Delivery.NOT_DELIVERED, 0, PeerEnding.UNKNOWN, 0, reason));
    }
}
