package dev.tcpscope.internal.os;

import java.util.Objects;

/**
 * Which transport this JVM runs tcpscope's connections on, and why: the result of
 * {@link PlatformSelection#choose}.
 *
 * @param kind         native Linux bindings, or the portable transport on the JDK's channels
 * @param architecture the architecture whose native layouts are used; null for {@code PORTABLE}
 * @param reason       one line saying what was seen and what it led to, for messages and logs
 */
public record PlatformChoice(Kind kind, Architecture architecture, String reason) {

    /** The two transports. */
    public enum Kind {
        /** tcpscope's own FFM calls into Linux, with the layouts of {@link #architecture()}. */
        NATIVE,
        /** The JDK's own socket channels, where no native bindings exist or when asked for. */
        PORTABLE
    }

    /** Checks that a native choice names its architecture and a portable one none. */
    public PlatformChoice {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reason, "reason");
        if ((kind == Kind.NATIVE) != (architecture != null)) {
            throw new IllegalArgumentException(kind + " with architecture " + architecture);
        }
    }
}
