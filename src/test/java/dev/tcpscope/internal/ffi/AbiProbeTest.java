package dev.tcpscope.internal.ffi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tcpscope.internal.ffi.x86_64.Libc;
import dev.tcpscope.internal.ffi.x86_64.in6_addr;
import dev.tcpscope.internal.ffi.x86_64.iovec;
import dev.tcpscope.internal.ffi.x86_64.in_addr;
import dev.tcpscope.internal.ffi.x86_64.linger;
import dev.tcpscope.internal.ffi.x86_64.sockaddr;
import dev.tcpscope.internal.ffi.x86_64.sockaddr_in;
import dev.tcpscope.internal.ffi.x86_64.sockaddr_in6;
import dev.tcpscope.internal.ffi.x86_64.sockaddr_storage;
import dev.tcpscope.internal.ffi.x86_64.utsname;
import dev.tcpscope.internal.os.Architecture;
import dev.tcpscope.internal.poll.EpollEventLayout;
import dev.tcpscope.testing.CProgram;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks the jextract bindings against C compilers: those in {@code dev.tcpscope.internal.ffi.x86_64}
 * against this machine's gcc and headers, and the same bindings as Linux aarch64 uses them (the
 * x86_64 package, except struct epoll_event from {@code dev.tcpscope.internal.ffi.aarch64})
 * against glibc's aarch64 headers, with the probe cross-compiled and run under qemu-aarch64.
 *
 * <p>{@code abi_probe.c} (a test resource) prints {@code NAME VALUE} lines for every constant,
 * struct size, alignment, field offset and field size, and the sizes of the C types behind the
 * layouts the bindings use. The test runs it and compares each line with the generated code, in
 * both directions: a constant present in {@code Libc} but not printed by the probe (or the other
 * way round) is reported too, so the probe has to follow {@code jextract/includes.txt}. It also
 * compares {@link EpollEventLayout#of} (what the poller really uses) for each architecture, checks
 * that the compiler targeted that architecture, and that uname(2)'s machine is the name
 * {@link Architecture} expects (on aarch64 that is qemu-user's answer, not a kernel's).
 *
 * <p>Without gcc, or without the cross tools (aarch64-linux-gnu-gcc with a static glibc, and
 * qemu-aarch64: {@code scripts/install-cross-tools.sh}, which {@code ./tcpscope test} runs), the
 * test fails with a message; it never skips. Checked by breaking things on purpose and watching
 * it fail, then restoring: EpollEventLayout's aarch64 data offset taken from the x86_64 class
 * (aarch64 case: "the poller uses 4, C says 8"); its aarch64 case built wholly from the x86_64
 * epoll_event (size 12 vs 16, data 4 vs 8); its x86_64 case built from the aarch64 epoll_event
 * (x86_64 case fails); utsname left out of the compared bindings (both fail: printed by the probe
 * but not found); the cross compiler's name changed to one not on PATH (fails with the message
 * naming the tools, the packages and the script).
 */
class AbiProbeTest {

    private static final String PROBE_RESOURCE = "abi_probe.c";

    /**
     * Every struct and union class generated from jextract/includes.txt, nested ones included,
     * except epoll_event and epoll_data: their layout is the same on x86_64 and aarch64.
     */
    private static final List<Class<?>> SAME_ON_BOTH = List.of(
            sockaddr.class,
            in_addr.class,
            sockaddr_in.class,
            in6_addr.class,
            in6_addr.__in6_u.class,
            sockaddr_in6.class,
            sockaddr_storage.class,
            linger.class,
            iovec.class,
            utsname.class);

    private static final List<Class<?>> X86_64_EPOLL = List.of(
            dev.tcpscope.internal.ffi.x86_64.epoll_data.class,
            dev.tcpscope.internal.ffi.x86_64.epoll_event.class);

    private static final List<Class<?>> AARCH64_EPOLL = List.of(
            dev.tcpscope.internal.ffi.aarch64.epoll_data.class,
            dev.tcpscope.internal.ffi.aarch64.epoll_event.class);

    private static final String CROSS_COMPILER = "aarch64-linux-gnu-gcc";
    private static final String EMULATOR = "qemu-aarch64";
    private static final Path CROSS_STATIC_LIBC = Path.of("/usr/aarch64-linux-gnu/lib/libc.a");

    @Test
    void x86_64BindingsMatchTheCCompilerOfThisMachine(@TempDir Path dir) throws Exception {
        Map<String, Long> c = parse(CProgram.compileAndRun(AbiProbeTest.class, PROBE_RESOURCE, dir));
        String arch = System.getProperty("os.arch");
        String note = "amd64".equals(arch) || "x86_64".equals(arch) ? ""
                : " (the bindings are generated for x86_64; this machine is " + arch + ")";
        assertMatches(Architecture.X86_64, X86_64_EPOLL, c, note);
        // Guard against a probe that printed nothing useful, or a filter that failed silently.
        assertEquals(12L, c.get("sizeof:epoll_event"), "struct epoll_event is packed on x86_64");
        assertEquals(4L, c.get("offsetof:epoll_event.data"), "epoll_event.data offset on x86_64");
    }

    @Test
    void aarch64LayoutsMatchACrossCompiledProbeRunUnderQemu(@TempDir Path dir) throws Exception {
        Optional<Path> qemu = CProgram.findOnPath(EMULATOR);
        if (CProgram.findOnPath(CROSS_COMPILER).isEmpty() || qemu.isEmpty() || !Files.isRegularFile(CROSS_STATIC_LIBC)) {
            fail("AbiProbeTest checks the Linux aarch64 layouts with " + CROSS_COMPILER + " (-static, so it needs "
                    + CROSS_STATIC_LIBC + ") and " + EMULATOR + "; found: " + CROSS_COMPILER + " "
                    + CProgram.findOnPath(CROSS_COMPILER).isPresent() + ", " + CROSS_STATIC_LIBC + " "
                    + Files.isRegularFile(CROSS_STATIC_LIBC) + ", " + EMULATOR + " " + qemu.isPresent()
                    + ". Install the Debian packages gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user:"
                    + " scripts/install-cross-tools.sh does it as root, and ./tcpscope test runs it first."
                    + " PATH=" + System.getenv("PATH"));
        }
        Map<String, Long> c = parse(CProgram.compileAndRun(AbiProbeTest.class, PROBE_RESOURCE, dir,
                CROSS_COMPILER, List.of("-static"), List.of(qemu.get().toString())));
        assertMatches(Architecture.AARCH64, AARCH64_EPOLL, c, " (aarch64, under qemu)");
        // Guard: the probe really ran as aarch64, where epoll_event is not packed.
        assertEquals(16L, c.get("sizeof:epoll_event"), "struct epoll_event on aarch64");
        assertEquals(8L, c.get("offsetof:epoll_event.data"), "epoll_event.data offset on aarch64");
    }

    /**
     * Compares what the probe printed with what {@code architecture} uses: Libc's constants and
     * type sizes, the aggregates common to both architectures, that architecture's epoll classes,
     * and {@link EpollEventLayout#of}; reports every difference at once.
     */
    private static void assertMatches(Architecture architecture, List<Class<?>> epollClasses, Map<String, Long> c,
            String note) throws Exception {
        Map<String, Long> java = new TreeMap<>();
        Map<String, Boolean> isJavaInt = new TreeMap<>();
        collectConstants(java, isJavaInt);
        collectTypeSizes(java);
        for (Class<?> aggregate : SAME_ON_BOTH) {
            collectAggregate(aggregate, java);
        }
        for (Class<?> aggregate : epollClasses) {
            collectAggregate(aggregate, java);
        }
        java.put("target:" + architecture.kernelMachine(), 1L);
        java.put("uname.machine:" + architecture.kernelMachine(), 1L);

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
        EpollEventLayout used = EpollEventLayout.of(architecture);
        compareUsed(mismatches, "size", used.size(), c.get("sizeof:epoll_event"));
        compareUsed(mismatches, "layout().byteSize()", used.layout().byteSize(), c.get("sizeof:epoll_event"));
        compareUsed(mismatches, "eventsOffset", used.eventsOffset(), c.get("offsetof:epoll_event.events"));
        compareUsed(mismatches, "dataOffset", used.dataOffset(), c.get("offsetof:epoll_event.data"));

        String header = mismatches.size() + " mismatch(es) between the " + architecture
                + " bindings and C" + note + ":\n  ";
        assertTrue(mismatches.isEmpty(), () -> header + String.join("\n  ", mismatches));
    }

    private static void compareUsed(List<String> mismatches, String what, long used, Long c) {
        if (c == null || used != c) {
            mismatches.add("EpollEventLayout." + what + ": the poller uses " + used + ", C says " + c);
        }
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
        // the one field of struct tcp_info that LostResetCheck reads
        out.put("offsetof:tcp_info.tcpi_state", (long) dev.tcpscope.internal.socket.LostResetCheck.TCPI_STATE_OFFSET);
        out.put("fieldsize:tcp_info.tcpi_state", 1L);
        // the offset cell sendfile(2) reads and advances: off_t *
        out.put("sizeof:off_t", dev.tcpscope.internal.socket.FileSend.OFF_T.byteSize());
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

    /** {@return the probe's {@code NAME VALUE} lines, parsed} */
    private static Map<String, Long> parse(String output) {
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
