package dev.tcpscope.platform;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.classfile.Attributes;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.classfile.constantpool.Utf8Entry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which of the library's class files only the JDK that compiled them can load. javac marks a class
 * file that uses a preview API (here StructuredTaskScope, preview in JDK 25) with minor version
 * 0xFFFF, and a JVM loads such a file only if it is of that same release and runs with
 * {@code --enable-preview}; other class files (major 69, minor 0) load on JDK 25 and every later
 * one. This test reads target/classes and checks:
 * <ul>
 * <li>exactly the classes compiled from a source file that uses StructuredTaskScope carry the
 *     marking — javac marks per source file, so a nested type of TcpScope.java is marked even if
 *     it names no preview API itself (found from the class files, no list to keep up to date:
 *     a new class next to TcpScope is covered as soon as it exists);</li>
 * <li>TcpConnection, TcpListener, every exception class and everything under
 *     dev/tcpscope/internal carry none, and neither does any library class they refer to, directly
 *     or not: on JDK 26 these classes work only if no path from them loads a marked one;</li>
 * <li>every class file is of major version 69 (Java 25), the release the launchers look for.</li>
 * </ul>
 * Together with PlatformTest (TcpConnection and TcpListener work without {@code --enable-preview},
 * which is how a JDK 25 treats a marked class exactly as a JDK 26 would: it refuses it) this is
 * what can be checked without a JDK 26, which cannot be installed on these machines.
 *
 * <p>Checked by breaking the build locally: javac's {@code -XDforcePreview} (which marks every class
 * file) fails the first two checks, listing the classes; a field of type
 * {@code StructuredTaskScope.Joiner<?, ?>} in TcpListener fails the second (TcpListener marked);
 * a field of type {@code TcpScope<?, ?>} in ConnectionEnder fails the second, naming the path
 * TcpConnection -> ConnectionEnder -> TcpScope.
 */
class PreviewMarkingTest {

    private static final Path CLASSES = Path.of("target/classes");
    private static final int PREVIEW_MINOR = 0xFFFF;
    private static final int JAVA_25_MAJOR = 69;
    private static final String PREVIEW_API = "java/util/concurrent/StructuredTaskScope";
    private static final Pattern LIBRARY_CLASS = Pattern.compile("dev/tcpscope/[A-Za-z0-9_/$]+");

    /** Every library class file, by internal name (e.g. dev/tcpscope/TcpScope$Body). */
    private static final Map<String, ClassModel> CLASSES_BY_NAME = new TreeMap<>();

    @BeforeAll
    static void readClassFiles() throws IOException {
        try (Stream<Path> files = Files.walk(CLASSES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                ClassModel model = ClassFile.of().parse(Files.readAllBytes(file));
                CLASSES_BY_NAME.put(model.thisClass().asInternalName(), model);
            }
        }
        assertTrue(CLASSES_BY_NAME.containsKey("dev/tcpscope/TcpConnection"),
                "no library classes in " + CLASSES.toAbsolutePath() + ": run after compile");
    }

    @Test
    void exactlyTheSourceFilesUsingStructuredTaskScopeAreMarked() {
        Set<String> previewSources = new TreeSet<>();
        CLASSES_BY_NAME.values().forEach(c -> {
            if (usesPreviewApi(c)) {
                previewSources.add(sourceFile(c));
            }
        });
        // The detection itself works: the two public users are found.
        assertTrue(previewSources.containsAll(Set.of("dev/tcpscope/TcpScope.java", "dev/tcpscope/TcpServer.java")),
                "StructuredTaskScope users found: " + previewSources);

        List<String> wrong = new ArrayList<>();
        CLASSES_BY_NAME.forEach((name, c) -> {
            boolean expected = previewSources.contains(sourceFile(c));
            if (isMarked(c) != expected) {
                wrong.add(name + (expected ? " is not marked, yet " : " is marked, yet ") + sourceFile(c)
                        + (expected ? " uses " : " does not use ") + "StructuredTaskScope");
            }
        });
        assertEquals(List.of(), wrong, "preview markings (minor version 0xFFFF)");
    }

    @Test
    void whatWorksOnLaterJdksIsNotMarkedNorReachesAMarkedClass() {
        Set<String> roots = new LinkedHashSet<>(List.of("dev/tcpscope/TcpConnection", "dev/tcpscope/TcpListener"));
        CLASSES_BY_NAME.keySet().stream().filter(n -> n.startsWith("dev/tcpscope/internal/")).forEach(roots::add);
        List<String> exceptions = CLASSES_BY_NAME.keySet().stream().filter(PreviewMarkingTest::isThrowable).toList();
        assertTrue(exceptions.contains("dev/tcpscope/ConnectionResetException"), "exceptions found: " + exceptions);
        roots.addAll(exceptions);

        // Breadth first, keeping how each class was reached, so a failure names the path.
        Map<String, String> reachedFrom = new HashMap<>();
        Deque<String> queue = new ArrayDeque<>();
        for (String root : roots) {
            reachedFrom.put(root, null);
            queue.add(root);
        }
        List<String> wrong = new ArrayList<>();
        while (!queue.isEmpty()) {
            String name = queue.poll();
            if (isMarked(CLASSES_BY_NAME.get(name))) {
                wrong.add(path(name, reachedFrom));
                continue;
            }
            for (String referenced : libraryClassesReferencedBy(CLASSES_BY_NAME.get(name))) {
                if (!reachedFrom.containsKey(referenced)) {
                    reachedFrom.put(referenced, name);
                    queue.add(referenced);
                }
            }
        }
        assertEquals(List.of(), wrong,
                "classes promised to load on any JDK >= 25 are marked as preview, or refer to one that is");
    }

    @Test
    void everyClassFileIsJava25() {
        List<String> wrong = CLASSES_BY_NAME.entrySet().stream()
                .filter(e -> e.getValue().majorVersion() != JAVA_25_MAJOR)
                .map(e -> e.getKey() + " " + e.getValue().majorVersion() + "." + e.getValue().minorVersion())
                .toList();
        assertEquals(List.of(), wrong, "class files not of major version 69 (Java 25)");
    }

    @Test
    void theReadmeNamesTheMarkedPublicClasses() throws IOException {
        // The README's "Java versions" paragraph tells users which classes need JDK 25 exactly.
        String readme = Files.readString(Path.of("README.md"));
        List<String> marked = CLASSES_BY_NAME.entrySet().stream()
                .filter(e -> isMarked(e.getValue()) && (e.getValue().flags().flagsMask() & ClassFile.ACC_PUBLIC) != 0)
                .map(e -> e.getKey().substring(e.getKey().lastIndexOf('/') + 1).replace('$', '.'))
                .filter(n -> !n.contains("."))
                .toList();
        assertFalse(marked.isEmpty(), "no public marked classes found");
        for (String name : marked) {
            assertTrue(readme.contains("`" + name + "`"), "README.md does not name the preview class " + name);
        }
    }

    private static boolean isMarked(ClassModel c) {
        return c.minorVersion() == PREVIEW_MINOR;
    }

    /** {@return whether the constant pool names StructuredTaskScope or one of its nested types} */
    private static boolean usesPreviewApi(ClassModel c) {
        for (PoolEntry entry : c.constantPool()) {
            if (entry instanceof Utf8Entry utf8 && utf8.stringValue().contains(PREVIEW_API)) {
                return true;
            }
        }
        return false;
    }

    /** {@return the source file a class was compiled from, e.g. dev/tcpscope/TcpScope.java} */
    private static String sourceFile(ClassModel c) {
        String name = c.thisClass().asInternalName();
        String pkg = name.contains("/") ? name.substring(0, name.lastIndexOf('/') + 1) : "";
        return pkg + c.findAttribute(Attributes.sourceFile())
                .map(a -> a.sourceFile().stringValue())
                .orElseThrow(() -> new AssertionError(name + " has no SourceFile attribute"));
    }

    /** {@return the library classes whose names appear in the constant pool (class entries, descriptors, signatures)} */
    private static Set<String> libraryClassesReferencedBy(ClassModel c) {
        Set<String> out = new TreeSet<>();
        for (PoolEntry entry : c.constantPool()) {
            if (entry instanceof Utf8Entry utf8) {
                Matcher m = LIBRARY_CLASS.matcher(utf8.stringValue());
                while (m.find()) {
                    if (CLASSES_BY_NAME.containsKey(m.group()) && !m.group().equals(c.thisClass().asInternalName())) {
                        out.add(m.group());
                    }
                }
            }
        }
        return out;
    }

    private static boolean isThrowable(String name) {
        for (String current = name; ; ) {
            ClassModel model = CLASSES_BY_NAME.get(current);
            if (model == null) {
                try {
                    return Throwable.class.isAssignableFrom(Class.forName(current.replace('/', '.'), false,
                            ClassLoader.getPlatformClassLoader()));
                } catch (ClassNotFoundException e) {
                    return false;
                }
            }
            if (model.superclass().isEmpty()) {
                return false;
            }
            current = model.superclass().get().asInternalName();
        }
    }

    private static String path(String name, Map<String, String> reachedFrom) {
        List<String> chain = new ArrayList<>();
        for (String at = name; at != null; at = reachedFrom.get(at)) {
            chain.addFirst(at);
        }
        return String.join(" -> ", chain) + " (marked)";
    }
}
