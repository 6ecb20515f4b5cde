package dev.tcpscope.internal.portable;

import dev.tcpscope.ConnectionClosedException;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What a call on a {@link PortableSocket}'s channel throws: the checks before the channel is
 * touched (closed by our side, thread interrupted, fatal error remembered) and the translation of
 * the JDK's exceptions after it into the ones the public API promises. It keeps why our side
 * closed the channel, which the calls that find it closed report; the fatal error itself is in
 * the socket's {@link ChannelErrorRecord}.
 */
final class ChannelExceptions {

    /** Why our side closed the channel, for the exceptions of the calls that find it closed. */
    private record Closing(String description, Throwable reason) {}

    private final SocketChannel channel;
    private final ChannelErrorRecord errors;
    private final InetSocketAddress remote;
    private final AtomicReference<Closing> closing = new AtomicReference<>();

    ChannelExceptions(SocketChannel channel, ChannelErrorRecord errors, InetSocketAddress remote) {
        this.channel = channel;
        this.errors = errors;
        this.remote = remote;
    }

    /** Turns an exception of a channel call into the one the public API promises. */
    IOException translate(IOException e, String operation) {
        if (e instanceof ClosedByInterruptException) {
            if (!markClosed("aborted: a thread blocked in " + operation + " was interrupted (the JDK closes the channel)", e)) {
                return closedException(operation); // our side ended it first (an abort, then the interrupt)
            }
            Thread.currentThread().interrupt();
            InterruptedIOException interrupted = new InterruptedIOException(operation + " interrupted");
            interrupted.initCause(e);
            return interrupted;
        }
        if (e instanceof ClosedChannelException) { // AsynchronousCloseException too: another thread closed it
            return closedException(operation);
        }
        ChannelFailures.Failure failure = errors.get();
        return failure != null ? failure.exception(operation, peerContext()) : e;
    }

    void checkUsable(String operation) throws IOException {
        if (closing.get() != null || !channel.isOpen()) {
            throw closedException(operation);
        }
        if (Thread.currentThread().isInterrupted()) {
            // The channel would close itself at once (InterruptibleChannel): refuse before touching it.
            throw interrupted(operation, null);
        }
    }

    /**
     * {@return the exception for an interrupt seen by {@code operation}} ConnectionClosedException
     * if our side closed the connection first — a scope or server aborts, then interrupts, and the
     * interrupt happens-before its detection here — as the native transport reports it; else
     * InterruptedIOException, the interrupt status kept.
     */
    IOException interrupted(String operation, Throwable cause) {
        if (closing.get() != null) {
            return closedException(operation);
        }
        Thread.currentThread().interrupt();
        InterruptedIOException e = new InterruptedIOException(operation + " interrupted");
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    void throwIfFailed(String operation) throws IOException {
        ChannelFailures.Failure failure = errors.get();
        if (failure != null) {
            throw failure.exception(operation, peerContext());
        }
    }

    /** {@return the exception the remembered fatal error means for {@code operation}, or null} */
    IOException failure(String operation) {
        ChannelFailures.Failure failure = errors.get();
        return failure == null ? null : failure.exception(operation, peerContext());
    }

    /** {@return the exception for {@code operation} attempted on, or woken by, the closed channel} */
    ConnectionClosedException closedException(String operation) {
        Closing c = closing.get();
        return c == null
                ? new ConnectionClosedException(operation + ": connection closed", null)
                : new ConnectionClosedException(operation + ": connection " + c.description(), c.reason());
    }

    /** Records why the channel is (being) closed, unless a reason is recorded already. */
    boolean markClosed(String description, Throwable reason) {
        return closing.compareAndSet(null, new Closing(description, reason));
    }

    /** {@return whether our side has closed (or is closing) the channel} */
    boolean closedByUs() {
        return closing.get() != null;
    }

    /** A call on the channel, for {@link #option}. */
    interface OptionCall<T> {
        T call() throws IOException;
    }

    /** {@return what {@code call} returns} ClosedChannelException becomes {@link #closedException}. */
    <T> T option(OptionCall<T> call, String operation) throws IOException {
        try {
            return call.call();
        } catch (ClosedChannelException e) {
            throw closedException(operation);
        }
    }

    String peerContext() {
        return "(peer " + remote + ")";
    }
}
