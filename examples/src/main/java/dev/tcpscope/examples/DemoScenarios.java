package dev.tcpscope.examples;

import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpScope;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.StructuredTaskScope;

import static dev.tcpscope.examples.Demo.PARTS;
import static dev.tcpscope.examples.Demo.responsePart;

/**
 * The demo's in-process scenarios: each way a server can fail mid-response, written once with the
 * JDK's own sockets and once with tcpscope, so that {@link Demo} can run both and compare.
 */
final class DemoScenarios {

    /** What a server does after accepting, written once for each implementation. */
    interface Scenario {
        String name();

        /** The handler on a plain JDK SocketChannel; {@code server} can be shut down mid-response. */
        void plainJdk(SocketChannel channel, Runnable halfSent) throws Exception;

        /** The handler on tcpscope. */
        void tcpscope(TcpConnection connection, TcpScope<Object, Void> scope, Runnable halfSent) throws Exception;

        /** Whether the server is shut down once half the response was sent. */
        default boolean shutsDownServer() {
            return false;
        }
    }

    /**
     * The timed-out scope's timeout; -Dtcpscope.demo.scopeTimeoutMillis to change. One second, so
     * that even on a loaded machine the subtask has written its half of the response before the
     * timeout fires (the row shows what the peer saw after 2048 bytes).
     */
    private static final Duration SCOPE_TIMEOUT = Duration.ofMillis(Long.getLong("tcpscope.demo.scopeTimeoutMillis", 1000));

    private DemoScenarios() {}

    static List<Scenario> inProcessScenarios() {
        return List.of(
                scenario("handler completes",
                        (ch, half) -> writeAll(ch, responsePart(PARTS)),
                        (conn, scope, half) -> conn.write(responsePart(PARTS))),
                scenario("handler throws an exception",
                        (ch, half) -> {
                            writeAll(ch, responsePart(2));
                            throw new IOException("the database went away");
                        },
                        (conn, scope, half) -> {
                            conn.write(responsePart(2));
                            throw new IOException("the database went away");
                        }),
                scenario("handler throws an Error",
                        (ch, half) -> {
                            writeAll(ch, responsePart(2));
                            throw new AssertionError("invariant broken");
                        },
                        (conn, scope, half) -> {
                            conn.write(responsePart(2));
                            throw new AssertionError("invariant broken");
                        }),
                scenario("handler aborts (the JDK has only close)",
                        (ch, half) -> {
                            writeAll(ch, responsePart(2));
                            ch.close(); // the JDK has no abort: close() is all there is
                        },
                        (conn, scope, half) -> {
                            conn.write(responsePart(2));
                            conn.abort();
                        }),
                scenario("a subtask fails",
                        (ch, half) -> {
                            CountDownLatch written = new CountDownLatch(1);
                            try (var tasks = StructuredTaskScope.open()) {
                                tasks.fork(() -> {
                                    writeAll(ch, responsePart(2));
                                    written.countDown();
                                    return null;
                                });
                                tasks.fork(() -> {
                                    written.await(); // fail once half the response is out
                                    throw new IOException("the pricing service failed");
                                });
                                tasks.join();
                            }
                        },
                        (conn, scope, half) -> {
                            CountDownLatch written = new CountDownLatch(1);
                            scope.fork(() -> {
                                conn.write(responsePart(2));
                                written.countDown();
                                return null;
                            });
                            scope.fork(() -> {
                                written.await(); // fail once half the response is out
                                throw new IOException("the pricing service failed");
                            });
                            scope.join();
                        }),
                scenario("an exception after join()",
                        (ch, half) -> {
                            try (var tasks = StructuredTaskScope.open()) {
                                tasks.fork(() -> {
                                    writeAll(ch, responsePart(2));
                                    return null;
                                });
                                tasks.join();
                                throw new IllegalStateException("the footer could not be rendered");
                            }
                        },
                        (conn, scope, half) -> {
                            // A scope of its own in try-with-resources: join() succeeded, then the
                            // work failed; close() without finish() aborts.
                            try (var inner = TcpScope.open()) {
                                scope.transfer(conn, inner);
                                inner.fork(() -> {
                                    conn.write(responsePart(2));
                                    return null;
                                });
                                inner.join();
                                throw new IllegalStateException("the footer could not be rendered");
                            }
                        }),
                scenario("the scope times out",
                        (ch, half) -> {
                            try (var tasks = StructuredTaskScope.open(StructuredTaskScope.Joiner.awaitAllSuccessfulOrThrow(),
                                    cf -> cf.withTimeout(SCOPE_TIMEOUT))) {
                                tasks.fork(() -> {
                                    writeAll(ch, responsePart(2));
                                    Thread.sleep(Duration.ofMinutes(1)); // a slow backend
                                    return null;
                                });
                                tasks.join();
                            }
                        },
                        (conn, scope, half) -> {
                            try (var timed = TcpScope.open(SCOPE_TIMEOUT)) {
                                scope.transfer(conn, timed);
                                timed.fork(() -> {
                                    conn.write(responsePart(2));
                                    Thread.sleep(Duration.ofMinutes(1)); // a slow backend
                                    return null;
                                });
                                timed.join();
                            }
                        }),
                new Scenario() {
                    @Override
                    public String name() {
                        return "the server shuts down mid-response";
                    }

                    @Override
                    public void plainJdk(SocketChannel channel, Runnable halfSent) throws Exception {
                        writeAll(channel, responsePart(2));
                        halfSent.run();
                        channel.read(ByteBuffer.allocate(1)); // waits for a request that never comes
                    }

                    @Override
                    public void tcpscope(TcpConnection connection, TcpScope<Object, Void> scope, Runnable halfSent)
                            throws Exception {
                        connection.write(responsePart(2));
                        halfSent.run();
                        connection.read(new byte[1]); // waits for a request that never comes
                    }

                    @Override
                    public boolean shutsDownServer() {
                        return true;
                    }
                });
    }

    @FunctionalInterface
    private interface PlainBody {
        void run(SocketChannel channel, Runnable halfSent) throws Exception;
    }

    @FunctionalInterface
    private interface TcpscopeBody {
        void run(TcpConnection connection, TcpScope<Object, Void> scope, Runnable halfSent) throws Exception;
    }

    private static Scenario scenario(String name, PlainBody plain, TcpscopeBody tcpscope) {
        return new Scenario() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void plainJdk(SocketChannel channel, Runnable halfSent) throws Exception {
                plain.run(channel, halfSent);
            }

            @Override
            public void tcpscope(TcpConnection connection, TcpScope<Object, Void> scope, Runnable halfSent)
                    throws Exception {
                tcpscope.run(connection, scope, halfSent);
            }
        };
    }

    private static void writeAll(SocketChannel channel, byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
