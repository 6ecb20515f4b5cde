package dev.tcpscope.testing;

import org.opentest4j.AssertionFailedError;

import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * What a {@link JdkPeer} read until its stream ended: every byte, then how it ended. This is the
 * truth the suites check an ending against: a graceful ending is every byte, then EOF; an abort
 * is a reset, after (at most) the bytes sent.
 *
 * @param data    every byte read before the end
 * @param end     how the stream ended
 * @param failure the exception that ended the reading, {@code null} for EOF
 */
public record Seen(byte[] data, End end, Throwable failure) {

    /** How the stream ended, from the reader's side. */
    public enum End {
        /** The other side sent FIN: the read returned -1. */
        EOF,
        /** The other side sent RST: the JDK's {@code SocketException: Connection reset}. */
        RESET,
        /** Anything else, e.g. the peer's guard timeout: never an expected outcome. */
        ERROR;

        /** {@return how an exception of a JDK socket's read ends the stream} */
        public static End of(IOException e) {
            return e instanceof SocketException && String.valueOf(e.getMessage()).contains("Connection reset")
                    ? RESET : ERROR;
        }
    }

    /** {@return whether the stream ended with EOF (FIN)} */
    public boolean isEof() {
        return end == End.EOF;
    }

    /** {@return whether the stream ended with a reset (RST)} */
    public boolean isReset() {
        return end == End.RESET;
    }

    /** {@return the bytes as UTF-8 text} */
    public String text() {
        return new String(data, StandardCharsets.UTF_8);
    }

    /** Asserts the peer read exactly {@code expected}, then EOF (our FIN, no RST). */
    public Seen assertEof(byte[] expected) {
        if (end != End.EOF) {
            throw new AssertionFailedError("expected " + expected.length + " bytes then EOF, but the peer saw "
                    + this, failure);
        }
        if (!Arrays.equals(expected, data)) {
            int at = Arrays.mismatch(expected, data);
            throw new AssertionFailedError("the peer saw EOF after " + data.length + " bytes, expected exactly the "
                    + expected.length + " bytes sent (first difference at byte " + at + ")");
        }
        return this;
    }

    /** Asserts the peer saw a reset, after a prefix of {@code sent} (the bytes that arrived first). */
    public Seen assertReset(byte[] sent) {
        assertReset();
        if (data.length > sent.length || !Arrays.equals(data, 0, data.length, sent, 0, data.length)) {
            throw new AssertionFailedError("before the reset the peer read " + data.length
                    + " bytes that are not a prefix of the " + sent.length + " sent: " + this);
        }
        return this;
    }

    /** Asserts the peer saw a reset. */
    public Seen assertReset() {
        if (end != End.RESET) {
            throw new AssertionFailedError("expected the peer to see a reset, but it saw " + this, failure);
        }
        return this;
    }

    @Override
    public String toString() {
        String shown = data.length <= 64 ? data.length + " bytes \"" + text() + "\"" : data.length + " bytes";
        return end + " after " + shown + (failure != null ? " (" + failure + ")" : "");
    }
}
