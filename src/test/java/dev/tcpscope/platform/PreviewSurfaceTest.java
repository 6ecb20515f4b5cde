package dev.tcpscope.platform;

import dev.tcpscope.AbortKind;
import dev.tcpscope.TcpConnection;
import dev.tcpscope.TcpListener;
import dev.tcpscope.TcpScope;
import dev.tcpscope.TcpServer;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Executable;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The preview API (StructuredTaskScope, JDK 25) in tcpscope's public signatures is exactly four
 * documented methods of {@link TcpScope}, and each says so in its Javadoc ("Preview API"), as does
 * {@code join()}, whose (unchecked) exceptions are StructuredTaskScope's:
 * a later JDK's changes to the preview API must touch few methods, and the user must be told
 * which. Checked by breaking it: an overload {@code open(Joiner, Function<Configuration,
 * Configuration>)} added back failed the first test; the Javadoc paragraph removed from
 * {@code fork(Runnable)} failed the second.
 */
class PreviewSurfaceTest {

    private static final Set<String> DOCUMENTED = Set.of(
            "TcpScope.open(Joiner)", "TcpScope.open(Joiner,Duration)", "TcpScope.fork(Callable)",
            "TcpScope.fork(Runnable)");

    @Test
    void onlyTheDocumentedMethodsNameAPreviewType() {
        Set<String> naming = new TreeSet<>();
        for (Class<?> type : List.of(TcpConnection.class, TcpListener.class, TcpScope.class, TcpServer.class,
                TcpServer.Builder.class, TcpServer.Handler.class, TcpScope.Body.class, AbortKind.class)) {
            List<Executable> members = new ArrayList<>(List.of(type.getDeclaredMethods()));
            members.addAll(List.of(type.getDeclaredConstructors()));
            for (Executable m : members) {
                if (!Modifier.isPublic(m.getModifiers()) || m.isSynthetic()) {
                    continue;
                }
                List<Type> types = new ArrayList<>(List.of(m.getGenericParameterTypes()));
                types.addAll(List.of(m.getGenericExceptionTypes()));
                if (m instanceof Method method) {
                    types.add(method.getGenericReturnType());
                }
                if (types.stream().anyMatch(t -> t.getTypeName().contains("StructuredTaskScope"))) {
                    naming.add(type.getSimpleName() + "." + m.getName() + "("
                            + String.join(",", Stream.of(m.getParameterTypes()).map(Class::getSimpleName).toList()) + ")");
                }
            }
        }
        assertEquals(new TreeSet<>(DOCUMENTED), naming);
    }

    @Test
    void eachOfThemSaysSoInItsJavadoc() throws Exception {
        String source = Files.readString(Path.of("src/main/java/dev/tcpscope/TcpScope.java"));
        for (String signature : List.of("TcpScope<T, R> open(Joiner<? super T, ? extends R> joiner) {",
                "TcpScope<T, R> open(Joiner<? super T, ? extends R> joiner, Duration timeout) {",
                "Subtask<U> fork(Callable<? extends U> task) {", "Subtask<U> fork(Runnable task) {",
                "public R join() throws InterruptedException {")) {
            int at = source.indexOf(signature);
            assertTrue(at > 0, signature);
            String javadoc = source.substring(source.lastIndexOf("/**", at), at);
            assertTrue(javadoc.contains("<b>Preview API.</b>"), () -> "no Preview API paragraph above " + signature);
        }
    }
}
