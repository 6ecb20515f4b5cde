package dev.tcpscope;

import dev.tcpscope.internal.transport.StreamSocket;

import java.io.IOException;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one place that ends a {@link TcpConnection}: gracefully ({@link #finish}) or abortively
 * ({@link #abort}), exactly once, recorded in an {@link EndingRecord}.
 *
 * <p>The state only moves forward: OPEN → ENDING (one thread won the right to end it) → ENDED
 * (the ending is recorded and the socket closed). A second ending that arrives meanwhile waits for
 * the first and returns its outcome. The socket carries SO_LINGER {1, 0} from its creation, so
 * every close here sends RST unless the socket's graceful ending
 * ({@link StreamSocket#endGracefully}) cleared the linger after its checks; a connection that becomes unreachable without an ending is aborted by a
 * {@link Cleaner} backstop.
 */
final class ConnectionEnder {

    private static final int OPEN = 0, ENDING = 1, ENDED = 2;
    private static final Cleaner CLEANER = Cleaner.create();

    private final StreamSocket socket;
    private final EndingRecord record;
    private final Cleaner.Cleanable backstop;
    private final AtomicInteger state = new AtomicInteger(OPEN);

    /** @param connection the connection whose unreachability triggers the backstop (not referenced) */
    ConnectionEnder(StreamSocket socket, Object connection) {
        this.socket = socket;
        this.record = new EndingRecord(socket, System.nanoTime());
        this.backstop = CLEANER.register(connection, record);
    }

    /** {@return whether no ending has begun} */
    boolean isOpen() {
        return state.get() == OPEN;
    }

    /** {@return "open", "ending" or "ended"} */
    String stateName() {
        return switch (state.get()) {
            case OPEN -> "open";
            case ENDING -> "ending";
            default -> "ended";
        };
    }

    void throwIfEnded(String operation) throws ConnectionClosedException {
        if (state.get() != OPEN) {
            throw socket.closedException(operation);
        }
    }

    EndingRecord record() {
        return record;
    }

    /**
     * The graceful ending: waits for a write in progress (until the deadline), flushes, then runs
     * the socket's graceful ending. Aborts instead when the output is poisoned, the flush fails, the
     * wait for the writer passes the deadline or is interrupted. If another ending began first,
     * waits for it and reports it.
     */
    FinishResult finish(ConnectionOutput output, long deadline, long quietNanos) {
        if (!state.compareAndSet(OPEN, ENDING)) {
            return record.await().result();
        }
        try {
            if (!output.lockForEnding(deadline)) {
                return abortNow(output, "finish(): a write in progress did not complete by the deadline", null).result();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return abortNow(output, "finish() interrupted while waiting for a write in progress", e).result();
        }
        try {
            // Checked under the lock: a write that was in progress may just have failed.
            Throwable p = output.poison();
            if (p != null) {
                return abortNow(output, "finish() on a connection poisoned by a failed write", p).result();
            }
            output.flushForEnding(deadline);
        } catch (IOException | RuntimeException e) {
            return abortNow(output, "finish(): flushing buffered output failed: " + e.getMessage(), e).result();
        } finally {
            output.unlock();
        }
        FinishResult result = socket.endGracefully(deadline, quietNanos);
        // Graceful also when the transport could not confirm delivery (FinishResult.Delivery.UNCONFIRMED):
        // no RST was sent and no failure was seen, which is all the portable transport can know.
        record.record(result.graceful() ? ConnectionEnding.Mode.GRACEFUL : ConnectionEnding.Mode.ABORTED,
                result.graceful() ? "finish()" : "finish() failed: " + result.reason(), null, result);
        ended();
        return result;
    }

    /** Aborts now, or waits for the ending another thread began. */
    void abort(ConnectionOutput output, String reason, Throwable cause) {
        if (state.compareAndSet(OPEN, ENDING)) {
            abortNow(output, reason, cause);
        } else {
            record.await();
        }
    }

    private ConnectionEnding abortNow(ConnectionOutput output, String reason, Throwable cause) {
        long unacknowledged = 0;
        try {
            unacknowledged = socket.unacknowledged();
        } catch (IOException ignored) {
            // already closed underneath: nothing more to learn
        }
        // Close first: a writer parked in the socket holds the output lock until the close wakes it.
        socket.close("aborted: " + reason, cause); // SO_LINGER {1,0}: RST
        output.discard();
        // The peer's own reset, if one was seen, is what it did; otherwise we did not wait to see.
        PeerEnding peer = socket.wasReset() ? PeerEnding.RST : PeerEnding.UNKNOWN;
        FinishResult result = new FinishResult(FinishResult.Delivery.NOT_DELIVERED, unacknowledged, peer, 0, reason);
        ConnectionEnding ending = record.record(ConnectionEnding.Mode.ABORTED, reason, cause, result);
        ended();
        return ending;
    }

    private void ended() {
        state.set(ENDED);
        backstop.clean(); // the ending is recorded: the backstop's run() finds it done
    }
}
