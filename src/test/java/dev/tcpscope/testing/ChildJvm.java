package dev.tcpscope.testing;

import dev.tcpscope.TcpConnection;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * A JVM to start as a child of the test, running a main class of this build: for what one test
 * JVM cannot show (a process that dies holding connections, more descriptors than one process
 * may hold, a lower descriptor limit, another {@code os.arch}, the examples as {@code ./tcpscope}
 * runs them). {@link #start} returns the running {@link ChildProcess}.
 *
 * <p>The command is the {@code java} of this JVM; tcpscope's flags on the class path
 * ({@code --enable-preview}, {@code --enable-native-access=ALL-UNNAMED}); and a class path made
 * of the code locations of the library and of the main class ({@code target/classes} and
 * {@code target/test-classes} in a Maven build): tcpscope works on the class path as on the
 * module path. The JVM's own messages go to stderr, so that stdout carries only the lines the
 * main class prints, which the test reads as a protocol.
 *
 * <p>Immutable: each option returns a new {@code ChildJvm}.
 */
public final class ChildJvm {

    private static final List<String> JVM_OUTPUT_TO_STDERR = List.of(
            "-XX:+DisplayVMOutputToStderr", "-Xlog:disable", "-Xlog:all=warning:stderr");
    private static Path jar;

    private final Class<?> mainClass;
    private final List<String> wrapper;
    private final boolean preview;
    private final List<String> jvmOptions;
    private final boolean fromJar;

    private ChildJvm(Class<?> mainClass, List<String> wrapper, boolean preview, List<String> jvmOptions,
                     boolean fromJar) {
        this.mainClass = mainClass;
        this.wrapper = List.copyOf(wrapper);
        this.preview = preview;
        this.jvmOptions = List.copyOf(jvmOptions);
        this.fromJar = fromJar;
    }

    /** {@return a child JVM that runs {@code mainClass}} */
    public static ChildJvm of(Class<?> mainClass) {
        return new ChildJvm(mainClass, List.of(), true, List.of(), false);
    }

    /** Starts {@code mainClass} with {@code args} in a child JVM with the default options. */
    public static ChildProcess start(Class<?> mainClass, String... args) throws IOException {
        return of(mainClass).start(args);
    }

    /** {@return this, with {@code options} for the JVM (after tcpscope's flags)} */
    public ChildJvm jvmOptions(String... options) {
        List<String> all = new ArrayList<>(jvmOptions);
        all.addAll(List.of(options));
        return new ChildJvm(mainClass, wrapper, preview, all, fromJar);
    }

    /** {@return this, with the virtual-thread scheduler of the test JVM (surefire's argLine): two carriers} */
    public ChildJvm twoCarriers() {
        return jvmOptions("-Djdk.virtualThreadScheduler.parallelism=2", "-Djdk.virtualThreadScheduler.maxPoolSize=2");
    }

    /** {@return this, without {@code --enable-preview}: what needs no preview API must run without it} */
    public ChildJvm withoutPreview() {
        return new ChildJvm(mainClass, wrapper, false, jvmOptions, fromJar);
    }

    /** {@return this, started by {@code command} (e.g. a shell that lowers the descriptor limit, then execs it)} */
    public ChildJvm behind(String... command) {
        return new ChildJvm(mainClass, List.of(command), preview, jvmOptions, fromJar);
    }

    /**
     * {@return this, running its classes from one jar of both code locations} A JVM keeps a jar
     * open, so loading a class late needs no new descriptor: for a child that runs out of
     * descriptors on purpose (from a directory, each class file is opened when loaded).
     */
    public ChildJvm classesFromJar() {
        return new ChildJvm(mainClass, wrapper, preview, jvmOptions, true);
    }

    /** {@return the command line that runs the main class with {@code args}} */
    public List<String> command(String... args) throws IOException {
        List<String> command = new ArrayList<>(wrapper);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (preview) {
            command.add("--enable-preview");
        }
        command.add("--enable-native-access=ALL-UNNAMED");
        command.addAll(JVM_OUTPUT_TO_STDERR);
        String transport = System.getProperty("tcpscope.transport");
        if (transport != null) {
            command.add("-Dtcpscope.transport=" + transport); // the child runs on the transport under test
        }
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(fromJar ? jar().toString()
                : codeLocation(TcpConnection.class) + File.pathSeparator + codeLocation(mainClass));
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        return command;
    }

    /** Starts the main class with {@code args}. */
    public ChildProcess start(String... args) throws IOException {
        return ChildProcess.start("the child JVM running " + mainClass.getSimpleName(), command(args));
    }

    /** {@return the directory or jar a class was loaded from} */
    static Path codeLocation(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@return the jar of the library's and the tests' classes, built once per test JVM} */
    private static synchronized Path jar() throws IOException {
        if (jar == null) {
            Path classes = codeLocation(TcpConnection.class);
            Path testClasses = codeLocation(ChildJvm.class);
            Path file = Files.createDirectories(testClasses.resolveSibling("child-jvm")).resolve("classes.jar");
            Set<String> names = new HashSet<>();
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(file))) {
                add(out, names, classes);
                add(out, names, testClasses);
            }
            jar = file;
        }
        return jar;
    }

    private static void add(JarOutputStream out, Set<String> names, Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path path : files.filter(Files::isRegularFile).sorted().toList()) {
                String name = root.relativize(path).toString().replace(File.separatorChar, '/');
                if (name.equals("module-info.class") || !names.add(name)) {
                    continue; // on the class path: the unnamed module
                }
                out.putNextEntry(new JarEntry(name));
                Files.copy(path, out);
                out.closeEntry();
            }
        }
    }
}
