package dev.tcpscope.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * JFR event: a connection served by a {@code TcpServer} ended, gracefully (FIN) or aborted (RST).
 * The event's duration is the time from accept to the ending.
 */
@Name("dev.tcpscope.ConnectionEnded")
@Label("TCP Connection Ended")
@Category({"tcpscope", "Server"})
@Description("How a tcpscope connection ended: graceful FIN or aborted RST, and why")
@StackTrace(false)
public final class ConnectionEndedEvent extends jdk.jfr.Event {

    @Label("Remote Address")
    public String remoteAddress;

    @Label("Transport")
    @Description("native (Linux system calls, delivery confirmed by SIOCOUTQ) or portable (the JDK's channels)")
    public String transport;

    @Label("Mode")
    @Description("GRACEFUL (FIN after every byte was acknowledged) or ABORTED (RST)")
    public String mode;

    @Label("Reason")
    public String reason;

    @Label("Abort Kind")
    @Description("handler-failed, time-limit, idle, shutdown, undelivered, transferred (ended by the scope the"
            + " handler transferred it to), or none")
    public String abortKind;

    @Label("Bytes Read")
    @DataAmount
    public long bytesRead;

    @Label("Bytes Written")
    @DataAmount
    public long bytesWritten;

    @Label("Delivered")
    @Description("Delivery confirmed: the peer's TCP acknowledged every byte and our FIN")
    public boolean delivered;

    @Label("Delivery")
    @Description("CONFIRMED, UNCONFIRMED (graceful, but the transport cannot see acknowledgements) or NOT_DELIVERED")
    public String delivery;

    @Label("Unacknowledged Bytes")
    @DataAmount
    public long unacknowledgedBytes;

    @Label("Connection Duration")
    @Timespan
    public long connectionNanos;
}
