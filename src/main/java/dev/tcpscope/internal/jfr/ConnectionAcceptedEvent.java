package dev.tcpscope.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR event: a {@code TcpServer} accepted a connection. */
@Name("dev.tcpscope.ConnectionAccepted")
@Label("TCP Connection Accepted")
@Category({"tcpscope", "Server"})
@Description("A tcpscope TcpServer accepted a connection")
@StackTrace(false)
public final class ConnectionAcceptedEvent extends jdk.jfr.Event {

    @Label("Remote Address")
    public String remoteAddress;

    @Label("Local Port")
    public int localPort;
}
