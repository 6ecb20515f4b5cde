/**
 * tcpscope: TCP connections whose ending tells the truth.
 *
 * <p>A connection ends gracefully (FIN, after every byte was acknowledged) only when the work
 * that owns it succeeded; every other way out, a thrown exception, a cancelled or timed-out
 * scope, a killed process, aborts it and the peer receives RST. Only {@code dev.tcpscope} is
 * exported; the OS layer and the generated bindings stay internal.
 */
module dev.tcpscope {
    requires jdk.jfr;
    requires jdk.net; // ExtendedSocketOptions: the keep-alive timings, in the JDK's vocabulary

    exports dev.tcpscope;
}
