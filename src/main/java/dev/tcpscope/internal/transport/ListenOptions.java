package dev.tcpscope.internal.transport;

/**
 * What a listening socket is set up with before bind(2), which its accepted sockets inherit
 * where the kernel says so (SO_RCVBUF does; SO_REUSEPORT is the listener's own).
 *
 * @param backlog           the pending-connection queue, at least 1
 * @param v6Only            IPV6_V6ONLY for an IPv6 address (ignored for IPv4)
 * @param reusePort         SO_REUSEPORT: several listeners (of this or other processes of the
 *                          same user) bind the same address and port, and the kernel spreads new
 *                          connections among them
 * @param receiveBufferSize SO_RCVBUF in bytes, or 0 for the system's default; set before
 *                          listen(2) so that it also sizes the TCP window of the handshake
 */
public record ListenOptions(int backlog, boolean v6Only, boolean reusePort, int receiveBufferSize) {
}
