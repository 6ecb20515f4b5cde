package dev.tcpscope.bench.memory;

import dev.tcpscope.bench.peers.Echo;
import dev.tcpscope.bench.peers.JdkServer;
import dev.tcpscope.bench.peers.TcpscopeServer;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;

/**
 * The server process whose memory {@link IdleConnectionMemory} measures: an echo server
 * ({@code tcpscope} or {@code jdk-virtual}) that prints {@code port N}, then obeys its standard
 * input: {@code measure} runs a full GC and prints {@code heap BYTES} (heap in use after it), at
 * which point the parent reads this process's VmRSS; {@code quit} (or end of input) exits.
 *
 * <pre>java ... IdleServerProcess tcpscope|jdk-virtual BUFFER_BYTES</pre>
 */
public final class IdleServerProcess {

    private IdleServerProcess() {}

    public static void main(String[] args) throws Exception {
        String implementation = args[0];
        int bufferSize = Integer.parseInt(args[1]);
        int port;
        switch (implementation) {
            case "tcpscope" -> {
                // A direct buffer, as the JDK server's handler has (Echo.jdk): see Echo.tcpscopeDirect.
                TcpscopeServer s = TcpscopeServer.start(Echo.tcpscopeDirect(bufferSize));
                port = s.address().getPort();
            }
            case "jdk-virtual" -> {
                JdkServer s = JdkServer.start(Thread.ofVirtual().factory(), Echo.jdk(bufferSize));
                port = s.address().getPort();
            }
            default -> throw new IllegalArgumentException("unknown server: " + implementation);
        }
        System.out.println("port " + port);
        System.out.flush();
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in));
        String command;
        while ((command = commands.readLine()) != null && !command.equals("quit")) {
            if (command.equals("measure")) {
                System.gc();
                System.gc();
                long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                System.out.println("heap " + used);
                System.out.flush();
            }
        }
        // Exit without a shutdown: the connections are still open, and a server shutdown would log
        // every one it has to reset. (Exiting resets them too: abort is tcpscope's default.)
        System.exit(0);
    }
}
