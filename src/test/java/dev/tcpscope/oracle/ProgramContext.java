package dev.tcpscope.oracle;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpScope;
import dev.tcpscope.testing.Forked;
import org.opentest4j.AssertionFailedError;

import java.io.IOException;
import java.time.Duration;

/**
 * What a path's program needs around its ending: its connection (connected to the peer or
 * accepted from it, through the relays), its exchange (one thread, or a reader and a writer), and
 * the wait for a peer that resets before our ending. Every step records what happened in
 * {@link #record()}.
 */
final class ProgramContext {

    /** How long the program waits for an event it is sure to get (the peer's planned reset). */
    static final Duration EVENT_WAIT = Duration.ofSeconds(10);

    private final Scenario scenario;
    private final Wiring wiring;
    private final ProgramRecord record;

    ProgramContext(Scenario scenario, Wiring wiring, ProgramRecord record) {
        this.scenario = scenario;
        this.wiring = wiring;
        this.record = record;
    }

    Scenario scenario() {
        return scenario;
    }

    Wiring wiring() {
        return wiring;
    }

    ProgramRecord record() {
        return record;
    }

    /** {@return a connection of the program's own (no scope): connected (over TLS if the scenario says so), or accepted} */
    TcpConnection open() throws IOException {
        TcpConnection c = scenario.tls() ? TcpConnection.connectTls(wiring.target(), ProgramIo.GUARD,
                OracleTls.clientContext(), OracleTls.SERVER_NAME, OracleTls.only(scenario.tlsVersion()))
                : scenario.ourSideConnects() ? TcpConnection.connect(wiring.target())
                : wiring.listener().accept(ProgramIo.GUARD);
        return got(c);
    }

    /** {@return a connection owned by {@code scope}: connected by it (over TLS if the scenario says so), or accepted and adopted} */
    TcpConnection openIn(TcpScope<?, ?> scope) throws IOException {
        TcpConnection c = scenario.tls() ? scope.connectTls(wiring.target(), ProgramIo.GUARD,
                OracleTls.clientContext(), OracleTls.SERVER_NAME, OracleTls.only(scenario.tlsVersion()))
                : scenario.ourSideConnects() ? scope.connect(wiring.target())
                : scope.adopt(wiring.listener().accept(ProgramIo.GUARD));
        return got(c);
    }

    /**
     * Records a connection the program got (also the lambda form's, a handler's). When the peer
     * connects, waits until the peer's connect() has returned: a program that ends before that can
     * make the peer's connect() itself fail (EPIPE, ECONNRESET), and the JDK then closes the
     * peer's channel with the bytes it had received, which the peer could no longer report.
     */
    TcpConnection got(TcpConnection c) {
        ProgramIo.prepare(c);
        record.connection(c);
        // A server limit (a time limit of ~100 ms on a loaded machine) can end the connection and
        // interrupt this wait before the peer's report arrives: that is the program failing as
        // planned, not the harness.
        if (!scenario.ourSideConnects() && !wiring.peer().awaitConnected(EVENT_WAIT) && c.isOpen()) {
            record.harnessProblem("the peer's connect() did not return");
        }
        return c;
    }

    /** The exchange in the calling thread, or in a reader and a writer thread it waits for. */
    void exchange(TcpConnection c) throws Exception {
        if (!scenario.readerWriter()) {
            write(c);
            readInline(c);
            return;
        }
        Forked<Void> reader = Forked.start(Forked.Kind.VIRTUAL, "oracle-reader", () -> read(c));
        Forked<Void> writer = Forked.start(Forked.Kind.VIRTUAL, "oracle-writer", () -> write(c));
        Forked.Outcome<Void> w, r;
        try {
            w = writer.await(ProgramIo.GUARD.plusSeconds(5));
            r = reader.await(ProgramIo.GUARD.plusSeconds(5));
        } catch (AssertionFailedError hung) {
            record.harnessProblem("our reader or writer thread hung: " + hung.getMessage());
            throw hung;
        }
        if (w.failure() != null) {
            throw asException(w.failure());
        }
        if (r.failure() != null) {
            throw asException(r.failure());
        }
    }

    /** The exchange inside a scope: the owner does it, or it forks a reader and a writer subtask. */
    void exchangeIn(TcpScope<Object, ?> scope, TcpConnection c) throws Exception {
        if (!scenario.readerWriter()) {
            write(c);
            readInline(c);
            return;
        }
        scope.fork(() -> read(c));
        scope.fork(() -> write(c));
    }

    /** A subtask that writes everything, then fails on purpose. */
    Void writeThenFail(TcpConnection c) throws Exception {
        write(c);
        throw new PlannedFailure("a subtask fails after writing");
    }

    /** Writes the scenario's bytes; a failure is recorded and thrown. */
    Void write(TcpConnection c) throws IOException {
        try {
            ProgramIo.write(c, scenario.size(), scenario.chunk());
            return null;
        } catch (IOException | RuntimeException e) {
            record.writeFailure(e);
            throw e;
        }
    }

    /** The reader: to the peer's end if it ends first, else what it sends; a failure is thrown. */
    Void read(TcpConnection c) throws IOException {
        ReadRecord r = ProgramIo.read(c, scenario.peerSends(), scenario.readsToPeerEnd());
        record.reader(r);
        if (r.failure() instanceof IOException e) {
            throw e;
        }
        if (r.failure() instanceof RuntimeException e) {
            throw e;
        }
        return null;
    }

    /**
     * One thread: read what the peer sends, or to its FIN. Not when the peer resets first: a
     * program that reads then throws, and the success path under test would never be reached
     * (the probe read after the reset covers the reader's side of it).
     */
    private void readInline(TcpConnection c) throws IOException {
        if (!scenario.behaviour().resetsBeforeOurEnding()) {
            read(c);
        }
    }

    /**
     * The last step before declaring success: with a peer that resets before our ending, waits
     * until it has (and, through relays, until every relay has passed the reset on), then makes
     * the probe read if the scenario has one. The ending that follows must report the reset.
     */
    void beforeEnding(TcpConnection c) {
        if (!scenario.behaviour().resetsBeforeOurEnding()) {
            return;
        }
        boolean reset = wiring.peer().awaitResetSent(EVENT_WAIT);
        record.peerResetSeenBeforeEnding(reset);
        if (reset && wiring.relays().hops() > 0) {
            wiring.relays().awaitSessions(EVENT_WAIT); // a relay that does not pass the reset on: the oracle says so
        }
        if (scenario.probeRead()) {
            record.probe(ProgramIo.read(c, 1, true)); // the program ignores what it says and ends as planned
        }
    }

    private static Exception asException(Throwable t) {
        if (t instanceof Exception e) {
            return e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new RuntimeException(t);
    }
}
