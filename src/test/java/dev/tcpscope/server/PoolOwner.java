package dev.tcpscope.server;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpScope;
import dev.tcpscope.testing.Await;
import dev.tcpscope.testing.Forked;

import java.util.concurrent.CompletableFuture;

/**
 * A long-lived "pool" {@link TcpScope} owned by a thread of its own, as an application keeps
 * keep-alive connections: a server handler {@linkplain TcpScope#transfer transfers} a connection
 * to {@link #scope()} and {@linkplain #received hands it over}; once {@link #finishWith} is
 * called, the owner writes more to the connection, joins and finishes the scope.
 */
public final class PoolOwner implements AutoCloseable {

    private final CompletableFuture<TcpScope<Object, Void>> scope = new CompletableFuture<>();
    private final CompletableFuture<TcpConnection> received = new CompletableFuture<>();
    private final CompletableFuture<byte[]> more = new CompletableFuture<>();
    private final Forked<Void> owner;

    private PoolOwner() {
        owner = Forked.start(Forked.Kind.PLATFORM, "pool-owner", () -> {
            try (TcpScope<Object, Void> pool = TcpScope.open()) {
                scope.complete(pool);
                byte[] bytes = more.get();
                TcpConnection connection = received.get();
                connection.write(bytes);
                pool.join();
                pool.finish();
            }
            return null;
        });
    }

    /** {@return a started pool owner, once its scope is open} */
    public static PoolOwner start() {
        PoolOwner pool = new PoolOwner();
        Await.result(pool.scope, "the pool's scope to open");
        return pool;
    }

    /** {@return the pool's scope, the target of transfers} */
    public TcpScope<Object, Void> scope() {
        return scope.join();
    }

    /** Hands over a connection already transferred to {@link #scope()}. */
    public void received(TcpConnection connection) {
        received.complete(connection);
    }

    /** {@return the connection handed over (waits, bounded)} */
    public TcpConnection connection() {
        return Await.result(received, "a connection handed to the pool");
    }

    /** Tells the owner to write {@code bytes} to the connection, then join and finish the pool. */
    public void finishWith(byte[] bytes) {
        more.complete(bytes);
    }

    /** Waits (bounded) until the owner has finished the pool; rethrows what it threw. */
    public void awaitFinished() throws Exception {
        owner.await(Await.TIMEOUT).assertReturned();
    }

    /** Ends the owner if the test did not: without {@code finish()} the pool aborts what it owns. */
    @Override
    public void close() throws Exception {
        more.complete(new byte[0]);
        received.complete(null);
        owner.await(Await.TIMEOUT);
    }
}
