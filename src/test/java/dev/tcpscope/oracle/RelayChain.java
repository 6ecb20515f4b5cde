package dev.tcpscope.oracle;

import dev.tcpscope.examples.Relay;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Zero to three {@link Relay}s (the example, unchanged) in a row in front of an address: a
 * client of {@link #entry()} reaches {@code upstream} through every hop. Each relay reports how
 * its session ended; a scenario has exactly one session per relay.
 */
final class RelayChain implements AutoCloseable {

    private final List<Relay> relays = new ArrayList<>();
    private final List<BlockingQueue<Relay.Session>> sessions = new ArrayList<>();
    private final List<Relay.Session> ended = new ArrayList<>(); // the sessions seen so far, in chain order
    private final InetSocketAddress entry;

    private RelayChain(InetSocketAddress upstream, int hops) throws IOException {
        InetSocketAddress next = upstream;
        try {
            for (int i = 0; i < hops; i++) {
                BlockingQueue<Relay.Session> ended = new LinkedBlockingQueue<>();
                Relay relay = Relay.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), next, ended::add);
                relays.add(relay);
                sessions.add(ended);
                next = relay.address();
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
        this.entry = next;
    }

    /** {@return a chain of {@code hops} relays in front of {@code upstream}} */
    static RelayChain start(InetSocketAddress upstream, int hops) throws IOException {
        return new RelayChain(upstream, hops);
    }

    /** {@return where to connect: the last relay, or the upstream itself with no hops} */
    InetSocketAddress entry() {
        return entry;
    }

    int hops() {
        return relays.size();
    }

    /**
     * Waits until every relay has reported its session, in chain order from the upstream side,
     * each at most {@code timeout}.
     *
     * @return the sessions; a relay whose session did not end in time has a {@code null} entry
     */
    synchronized List<Relay.Session> awaitSessions(Duration timeout) {
        for (int i = 0; i < sessions.size(); i++) {
            if (ended.size() <= i) {
                ended.add(null);
            }
            if (ended.get(i) == null) {
                try {
                    ended.set(i, sessions.get(i).poll(timeout.toMillis(), TimeUnit.MILLISECONDS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        return new ArrayList<>(ended);
    }

    /** Stops every relay; sessions still running are aborted (both of their peers get RST). */
    @Override
    public void close() {
        for (Relay relay : relays) {
            relay.close();
        }
    }
}
