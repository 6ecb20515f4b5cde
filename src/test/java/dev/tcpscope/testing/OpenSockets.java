package dev.tcpscope.testing;

import dev.tcpscope.internal.poll.Poller;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.SocketChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The open socket descriptors of this process, as the kernel sees them: entries of
 * {@code /proc/self/fd} whose link target starts with {@code socket:}. Counts every socket in the
 * JVM, the layer's and the JDK's alike, so it also catches leaks that the layer's own counters
 * ({@link DescriptorCounts}) cannot see.
 *
 * <p>Register {@link Check} in every test class of the socket layer and above:
 * <pre>{@code
 * @RegisterExtension
 * static final OpenSockets.Check OPEN_SOCKETS = new OpenSockets.Check();
 * }</pre>
 * It checks, around every test and the class:
 * <ul>
 *   <li>after each test: the layer closed (close(2)) exactly as many sockets as it opened during
 *       the test ({@link DescriptorCounts});</li>
 *   <li>after the class: the process holds as many socket descriptors as before the class, the
 *       baseline being taken once the shared {@link Poller} has started and the JDK has opened its
 *       own permanent socket ({@link #initJdkNetworking()}).</li>
 * </ul>
 * {@link Check#perTest()} compares the process's socket descriptors around every test as well:
 * for tests whose JDK peers must be closed by the test that opened them.
 * The checks wait, bounded by {@link Await#TIMEOUT}, instead of failing at once: close(2) is
 * made by whichever thread drops the last reference to a descriptor, e.g. a woken reader, which
 * may still be running when the test method returns.
 *
 * <p>Why a static field and not {@code @ExtendWith}: the tests are patched into the module
 * {@code dev.tcpscope}, and Surefire opens to JUnit only the packages of the test classes it runs.
 * JUnit would have to instantiate an {@code @ExtendWith} class reflectively in this package;
 * with {@code @RegisterExtension} the test class creates it and JUnit only calls its callback
 * interfaces.
 */
public final class OpenSockets {

    private static final Path FDS = Path.of("/proc/self/fd");

    private OpenSockets() {}

    /** {@return how many descriptors of this process are sockets} */
    public static int count() {
        return list().size();
    }

    /** {@return descriptor number to link target ("socket:[inode]") for every open socket} */
    public static Map<Integer, String> list() {
        Map<Integer, String> sockets = new TreeMap<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(FDS)) {
            for (Path entry : entries) {
                target(entry).filter(t -> t.startsWith("socket:"))
                        .ifPresent(t -> sockets.put(Integer.parseInt(entry.getFileName().toString()), t));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + FDS, e);
        }
        return sockets;
    }

    /** {@return the link target of descriptor {@code fd}, e.g. "socket:[12345]", if it is open} */
    public static Optional<String> target(int fd) {
        return target(FDS.resolve(Integer.toString(fd)));
    }

    private static Optional<String> target(Path entry) {
        try {
            return Optional.of(Files.readSymbolicLink(entry).toString());
        } catch (NoSuchFileException closedMeanwhile) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + entry, e);
        }
    }

    /**
     * Makes the JDK create its one permanent socket now, before a baseline is taken: on first
     * use of any socket or channel it opens a Unix socket pair, keeps one end for good (the
     * "pre-close" descriptor that {@code dup2} puts in place of a descriptor being closed while
     * another thread uses it) and closes the other. Taken after a test's first JDK socket, that
     * descriptor would look like a leak.
     */
    public static void initJdkNetworking() {
        try {
            SocketChannel.open().close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a JDK socket", e);
        }
    }

    /** Waits until the process holds exactly {@code expected} sockets; fails listing them if not. */
    public static void awaitCount(int expected) {
        Await.until(() -> "expected " + expected + " open sockets, found " + count() + ": " + list(),
                Await.TIMEOUT, () -> count() == expected);
    }

    /**
     * The JUnit extension: per-test descriptor accounting and the per-class (optionally also
     * per-test) {@code /proc/self/fd} baseline. Register it in a {@code static} field (the
     * class-level check needs {@code beforeAll}/{@code afterAll}).
     */
    public static final class Check implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
            AfterEachCallback {

        private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(Check.class);

        private final boolean countSocketsPerTest;

        /** Layer accounting per test; the process's socket descriptors per class. */
        public Check() {
            this(false);
        }

        private Check(boolean countSocketsPerTest) {
            this.countSocketsPerTest = countSocketsPerTest;
        }

        /** {@return a check that also compares the process's socket descriptors around every test} */
        public static Check perTest() {
            return new Check(true);
        }

        @Override
        public void beforeAll(ExtensionContext context) {
            if (!TransportUnderTest.portable()) {
                // Its epoll descriptor and thread exist before the baseline. On portable the native
                // layers refuse to start (Platform), and the JDK's poller holds no socket.
                Poller.shared();
            }
            initJdkNetworking();
            context.getStore(NAMESPACE).put("baseline", count());
        }

        @Override
        public void afterAll(ExtensionContext context) {
            Integer baseline = context.getStore(NAMESPACE).get("baseline", Integer.class);
            Await.until(() -> context.getRequiredTestClass().getSimpleName() + " left sockets open: "
                            + baseline + " before the class, " + count() + " after it: " + list(),
                    Await.TIMEOUT, () -> count() == baseline);
        }

        @Override
        public void beforeEach(ExtensionContext context) {
            context.getStore(NAMESPACE).put("counts", DescriptorCounts.now());
            if (countSocketsPerTest) {
                context.getStore(NAMESPACE).put("sockets", count());
            }
        }

        @Override
        public void afterEach(ExtensionContext context) {
            DescriptorCounts before = context.getStore(NAMESPACE).get("counts", DescriptorCounts.class);
            before.awaitAllReleased(context.getDisplayName());
            if (countSocketsPerTest) {
                int sockets = context.getStore(NAMESPACE).get("sockets", Integer.class);
                Await.until(() -> context.getDisplayName() + " left sockets open: " + sockets + " before the test, "
                        + count() + " after it: " + list(), Await.TIMEOUT, () -> count() == sockets);
            }
        }
    }
}
