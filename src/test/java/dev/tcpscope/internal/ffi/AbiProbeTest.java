package dev.tcpscope.internal.ffi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.ffi.x86_64.epoll_data;
import dev.tcpscope.internal.ffi.x86_64.epoll_event;
import dev.tcpscope.internal.ffi.x86_64.in6_addr;
import dev.tcpscope.internal.ffi.x86_64.in_addr;
import dev.tcpscope.internal.ffi.x86_64.linger;
import dev.tcpscope.internal.ffi.x86_64.sockaddr;
import dev.tcpscope.internal.ffi.x86_64.sockaddr_in;
import dev.tcpscope.internal.ffi.x86_64.sockaddr_in6;
import dev.tcpscope.internal.ffi.x86_64.sockaddr_storage;
import dev.tcpscope.testing.CProgram;
import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks the jextract bindings in {@code dev.tcpscope.internal.ffi.x86_64} against the C compiler
 * and headers of the machine running the test.
 *
 * <p>{@code abi_probe.c} (a test resource) prints {@code NAME VALUE} lines for every constant,
 * struct size, alignment, field offset and field size, and the sizes of the C types behind the
 * layouts the bindings use. The test compiles it with gcc, runs it and compares each line with
 * the generated code, in both directions: a constant present in {@code Libc} but not printed by
 * the probe (or the other way round) is reported too, so the probe has to follow
 * {@code jextract/includes.txt}. Without gcc the test fails; it never skips.
 */
class AbiProbeTest {

    private static final String PROBE_RESOURCE = "abi_probe.c";

    /** Every struct and union class generated from jextract/includes.txt, nested ones included. */
    private static final List<Class<?>> AGGREGATES = List.of(
            sockaddr.class,
            in_addr.class,
            sockaddr_in.class,
            in6_addr.class,
            in6_addr.__in6_u.class,
            sockaddr_in6.class,
            sockaddr_storage.class,
            linger.class,
            epoll_data.class,
            epoll_event.class);

    @Test
    void bindingsMatchTheCCompilerOfThisMachine(@TempDir Path dir) throws Exception {
        Map<String, Long> c = runProbe(dir);
        Map<String, Long> java = new TreeMap<>();
        Map<String, Boolean> isJavaInt = new TreeMap<>();
        collectConstants(java, isJavaInt);
        collectTypeSizes(java);
        for (Class<?> aggregate : AGGREGATES) {
            collectAggregate(aggregate, java);
        }

        List<String> mismatches = new ArrayList<>();
        TreeSet<String> keys = new TreeSet<>(c.keySet());
        keys.addAll(java.keySet());
        for (String key : keys) {
            Long cValue = c.get(key);
            Long javaValue = java.get(key);
            if (cValue == null) {
                mismatches.add(key + ": in the bindings (" + javaValue + ") but not printed by "
                        + PROBE_RESOURCE + "; add it there");
            } else if (javaValue == null) {
                mismatches.add(key + ": printed by " + PROBE_RESOURCE + " (" + cValue
                        + ") but not found in the bindings");
            } else if (!sameValue(cValue, javaValue, isJavaInt.getOrDefault(key, false))) {
                mismatches.add(key + ": C says " + cValue + ", bindings say " + javaValue);
            }
        }

        String arch = System.getProperty("os.arch");
        String header = mismatches.size() + " mismatch(es) between the jextract bindings and C"
                + ("amd64".equals(arch) || "x86_64".equals(arch) ? ""
                        : " (the bindings are generated for x86_64; this machine is " + arch + ")")
                + ":\n  ";
        assertTrue(mismatches.isEmpty(), () -> header + String.join("\n  ", mismatches));
        // Guard against a probe that printed nothing useful, or a filter that failed silently.
        assertEquals(12L, java.get("sizeof:epoll_event"), "struct epoll_event is packed on x86_64");
        assertEquals(4L, java.get("offsetof:epoll_event.data"), "epoll_event.data offset on x86_64");
    }

    /**
     * A Java {@code int} constant matches a C value with the same 32 bits, read as signed or
     * unsigned: EPOLLET is {@code 1u << 31} in C and {@code Integer.MIN_VALUE} in Java.
     */
    private static boolean sameValue(long cValue, long javaValue, boolean javaIsInt) {
        if (javaIsInt) {
            return cValue >= Integer.MIN_VALUE && cValue <= 0xFFFF_FFFFL && (int) cValue == (int) javaValue;
        }
        return cValue == javaValue;
    }

    /** All constants jextract generated: public static no-argument methods of Libc without '$'. */
    private static void collectConstants(Map<String, Long> out, Map<String, Boolean> isInt) throws Exception {
        for (Method m : Libc.class.getDeclaredMethods()) {
            int mod = m.getModifiers();
            Class<?> type = m.getReturnType();
            if (!Modifier.isPublic(mod) || !Modifier.isStatic(mod) || m.getParameterCount() != 0
                    || m.getName().contains("$")) {
                continue;
            }
            if (type != int.class && type != long.class && type != short.class && type != byte.class) {
                continue;
            }
            out.put(m.getName(), ((Number) m.invoke(null)).longValue());
            isInt.put(m.getName(), type == int.class);
        }
    }

    /** Sizes of the C types that the generated layouts and function descriptors stand for. */
    private static void collectTypeSizes(Map<String, Long> out) {
        out.put("sizeof:short", Libc.C_SHORT.byteSize());
        out.put("sizeof:int", Libc.C_INT.byteSize());
        out.put("sizeof:long", Libc.C_LONG.byteSize());
        out.put("sizeof:pointer", Libc.C_POINTER.byteSize());
        // bind(int, const struct sockaddr *, socklen_t)
        out.put("sizeof:socklen_t", Libc.bind$descriptor().argumentLayouts().get(2).byteSize());
        out.put("sizeof:sa_family_t", sockaddr.sa_family$layout().byteSize());
        out.put("sizeof:in_port_t", sockaddr_in.sin_port$layout().byteSize());
        // ssize_t read(int, void *, size_t)
        out.put("sizeof:size_t", Libc.read$descriptor().argumentLayouts().get(2).byteSize());
        out.put("sizeof:ssize_t", Libc.read$descriptor().returnLayout().orElseThrow().byteSize());
        // int ioctl(int, unsigned long, ...)
        out.put("sizeof:ioctl_request",
                Libc.ioctl.makeInvoker().descriptor().argumentLayouts().get(1).byteSize());
    }

    /** Size, alignment, and each field's offset (via {@code field$offset()}) and size. */
    private static void collectAggregate(Class<?> aggregate, Map<String, Long> out) throws Exception {
        String tag = aggregate.getName()
                .substring(aggregate.getPackageName().length() + 1)
                .replace('$', '.');
        GroupLayout layout = (GroupLayout) aggregate.getMethod("layout").invoke(null);
        out.put("sizeof:" + tag, layout.byteSize());
        out.put("alignof:" + tag, layout.byteAlignment());
        for (MemoryLayout member : layout.memberLayouts()) {
            if (member instanceof PaddingLayout) {
                continue;
            }
            String field = member.name().orElseThrow();
            long offset = (long) aggregate.getMethod(field + "$offset").invoke(null);
            MemoryLayout fieldLayout = (MemoryLayout) aggregate.getMethod(field + "$layout").invoke(null);
            out.put("offsetof:" + tag + "." + field, offset);
            out.put("fieldsize:" + tag + "." + field, fieldLayout.byteSize());
        }
    }

    /** Compiles and runs abi_probe.c in {@code dir}; returns its {@code NAME VALUE} lines. */
    private static Map<String, Long> runProbe(Path dir) throws IOException, InterruptedException {
        String output = CProgram.compileAndRun(AbiProbeTest.class, PROBE_RESOURCE, dir);

        Map<String, Long> values = new TreeMap<>();
        for (String line : output.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] parts = line.trim().split("\\s+");
            if (parts.length != 2) {
                fail("unexpected probe output line: '" + line + "'");
            }
            if (values.put(parts[0], Long.parseLong(parts[1])) != null) {
                fail("probe printed " + parts[0] + " twice");
            }
        }
        return values;
    }
}
