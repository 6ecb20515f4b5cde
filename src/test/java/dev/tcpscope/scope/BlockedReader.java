package dev.tcpscope.scope;

import dev.tcpscope.ConnectionClosedException;
import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpScope;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Parked;
import org.opentest4j.AssertionFailedError;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/**
 * A subtask body that reads a connection until its end, and records how it woke: fork it, wait
 * with {@link #awaitParked()} until it is really blocked in the read, make something happen (a
 * failure elsewhere, a timeout, an abort), then ask {@link #awaitWoke()} what ended the read.
 */
public final class BlockedReader implements Callable<Long> {

    private final TcpConnection connection;
    private final CompletableFuture<Thread> thread = new CompletableFuture<>();
    private final CompletableFuture<Throwable> woke = new CompletableFuture<>();
    private static final Throwable EOF = new Throwable("read returned -1 (no exception)");

    public BlockedReader(TcpConnection connection) {
        this.connection = connection;
    }

    /** Forks a reader of {@code connection} in {@code scope}, and waits until it is blocked in the read. */
    public static BlockedReader forkedIn(TcpScope<? super Long, ?> scope, TcpConnection connection) {
        BlockedReader reader = new BlockedReader(connection);
        scope.fork(reader);
        reader.awaitParked();
        return reader;
    }

    @Override
    public Long call() throws IOException {
        thread.complete(Thread.currentThread());
        byte[] buffer = new byte[8192];
        long total = 0;
        try {
            for (int n; (n = connection.read(buffer)) >= 0; ) {
                total += n;
            }
            woke.complete(EOF);
            return total;
        } catch (IOException | RuntimeException e) {
            woke.complete(e);
            throw e;
        }
    }

    /** Waits until the reader's thread is parked in the poller, i.e. blocked in the read. */
    public Thread awaitParked() {
        Thread t = Await.result(thread, "the reader subtask to start");
        Parked.await(t);
        return t;
    }

    /** {@return what ended the read (waits, bounded)} */
    public Throwable awaitWoke() {
        Throwable t = Await.result(woke, "the reader subtask to wake");
        if (t == EOF) {
            throw new AssertionFailedError("the read returned -1 instead of being woken by an exception");
        }
        return t;
    }

    /**
     * Asserts the read was woken by its connection being ended by our side
     * ({@link ConnectionClosedException}) or by an interrupt ({@link InterruptedIOException}, as
     * a cancelled scope delivers), not by anything the peer did; returns the exception.
     */
    public Throwable assertWokenByOurSide() {
        Throwable t = awaitWoke();
        if (!(t instanceof ConnectionClosedException || t instanceof InterruptedIOException)) {
            throw new AssertionFailedError("expected the read to be woken by an abort or an interrupt, but it ended with "
                    + t, t);
        }
        return t;
    }
}
