package dev.tcpscope.examples;

import dev.tcpscope.TcpConnection;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * The process that dies in the demo's last three scenarios: it connects to the demo's peer, sends
 * the first half of a response, says READY on stdout, then ends by {@code System.exit},
 * {@code Runtime.halt}, or waits to be killed with SIGKILL.
 *
 * <p>Usage: {@code DemoChild jdk|tcpscope exit|halt|kill PORT}
 */
public final class DemoChild {

    /** Keeps the connection reachable until the process dies (no Cleaner may close it first). */
    static volatile Object keepOpen;

    private DemoChild() {}

    public static void main(String[] args) throws Exception {
        String variant = args[0];
        String death = args[1];
        InetSocketAddress peer = new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(args[2]));
        byte[] half = Demo.responsePart(2);
        // Deliberately held open, not closed: the process is about to die with it.
        if (variant.equals("jdk")) {
            Socket socket = new Socket(peer.getAddress(), peer.getPort());
            OutputStream out = socket.getOutputStream();
            out.write(half);
            out.flush();
            keepOpen = socket;
        } else {
            TcpConnection connection = TcpConnection.connect(peer);
            connection.write(half);
            keepOpen = connection;
        }
        System.out.println("READY");
        System.out.flush();
        switch (death) {
            case "exit" -> System.exit(1);
            case "halt" -> Runtime.getRuntime().halt(1);
            default -> {
                System.in.read(); // until SIGKILL
            }
        }
    }
}
