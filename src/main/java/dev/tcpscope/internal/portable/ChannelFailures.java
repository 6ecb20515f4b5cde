package dev.tcpscope.internal.portable;

import dev.tcpscope.ConnectionResetException;
import dev.tcpscope.SystemCallException;

import java.io.IOException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.util.Locale;

/**
 * What a fatal {@link IOException} from a JDK channel means, and the typed exception every later
 * call reports for it.
 *
 * <p>The JDK does not expose errno: a channel reports a reset as a {@link SocketException} whose
 * message is the only clue ("Connection reset" from a read, "Connection reset by peer" or
 * "Broken pipe" from a write, the operating system's own text on Windows). Recognising errors by
 * message text is fragile, so it is done here and nowhere else, and the fallback is safe: an
 * error whose message is not in the table is still a fatal error, remembered and reported to
 * every later call (as a plain {@link SocketException}) — never a -1, only a less specific type.
 */
final class ChannelFailures {

    /** The kinds of fatal error the public API tells apart. */
    enum Kind {
        /** The peer reset the connection: {@link ConnectionResetException}. */
        RESET,
        /**
         * A write found the connection gone ("Broken pipe", EPIPE): the error was taken by another
         * call, or the peer reset after its FIN, or our own shutdown. Settled before deciding.
         */
        BROKEN_PIPE,
        /** The connection timed out (TCP_USER_TIMEOUT, keep-alive, retransmissions). */
        TIMED_OUT,
        /** No route to the peer any more. */
        UNREACHABLE,
        /** Anything else: still fatal, still remembered. */
        OTHER
    }

    /** A remembered error: its kind, the JDK's message, and the call that first reported it. */
    record Failure(Kind kind, String message, String call) {

        /** {@return the exception for {@code operation}, of the type its kind maps to} */
        IOException exception(String operation, String context) {
            String text = operation + (context != null ? " " + context : "") + ": " + message
                    + " (first reported by " + call + ")";
            return switch (kind) {
                case RESET, BROKEN_PIPE -> new ConnectionResetException(text);
                // The JDK gives no errno: -1, with the name the native transport would report.
                case TIMED_OUT -> new SystemCallException(text, call, -1, "ETIMEDOUT");
                case UNREACHABLE -> new NoRouteToHostException(text);
                case OTHER -> new SocketException(text);
            };
        }
    }

    private ChannelFailures() {}

    /**
     * {@return {@code e} as the {@link SystemCallException} the native transport reports when
     * the process (EMFILE) or the system (ENFILE) is out of descriptors, or {@code e} itself}
     * The JDK reports both as a plain {@link IOException} with strerror's text ("Too many open
     * files", "Too many open files in system"; Windows' WSAEMFILE says "Too many open files"
     * too). Typed, the server backs off and logs them as it does on native. The errno is -1:
     * the JDK does not give it; {@link SystemCallException#errnoName()} names it.
     */
    static IOException descriptorExhaustion(String call, IOException e) {
        String m = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
        if (!m.contains("too many open files")) {
            return e;
        }
        String name = m.contains("in system") ? "ENFILE" : "EMFILE";
        SystemCallException typed = new SystemCallException(call + ": " + name + " (" + e.getMessage() + ")", call, -1, name);
        typed.initCause(e);
        return typed;
    }

    /** {@return the kind of a fatal error reported by a channel as {@code e}} */
    static Kind kind(IOException e) {
        String m = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
        if (m.contains("broken pipe")) {
            return Kind.BROKEN_PIPE;
        }
        if (m.contains("connection reset") // Linux, macOS ("... by peer" on writes), the JDK's own on reads
                || m.contains("forcibly closed by the remote host")) { // Windows, WSAECONNRESET
            return Kind.RESET;
        }
        if (m.contains("timed out")) { // "Connection timed out" (Linux), "Operation timed out" (macOS)
            return Kind.TIMED_OUT;
        }
        if (m.contains("no route to host") || m.contains("network is unreachable") || m.contains("host is down")) {
            return Kind.UNREACHABLE;
        }
        return Kind.OTHER;
    }
}
