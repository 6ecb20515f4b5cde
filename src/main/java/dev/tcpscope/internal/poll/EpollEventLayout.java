package dev.tcpscope.internal.poll;

import dev.tcpscope.internal.os.Architecture;
import dev.tcpscope.internal.os.Platform;

import java.lang.foreign.MemoryLayout;

/**
 * The layout of {@code struct epoll_event} for one architecture: the one struct tcpscope uses
 * whose layout differs between its native architectures. glibc declares it packed on x86_64 only
 * (12 bytes, data at offset 4, for the 32-bit x86 ABI the kernel shares there); on aarch64 it is
 * 16 bytes, 8-aligned, data at offset 8. Both come from jextract ({@code internal.ffi.x86_64} and
 * {@code internal.ffi.aarch64}); AbiProbeTest checks {@link #of} for each against its C compiler.
 *
 * <p>{@link #SELECTED} is the running architecture's, taken from {@link Platform} once; the poller
 * reads its numbers into {@code static final} fields, so the JIT folds the offsets as constants.
 * Nothing else picks an epoll_event layout, so no event is read with another architecture's.
 * (With SELECTED forced to aarch64's on x86_64, PollerSlotsTest, ReadinessTest and StaleEventTest
 * timed out waiting for a registration's first edge: the poller tests see a wrong layout.)
 *
 * @param layout       the struct's layout (for allocation)
 * @param size         its size in bytes: the stride of an epoll_wait array
 * @param eventsOffset the offset of the 32-bit {@code events} field
 * @param dataOffset   the offset of the 64-bit {@code data} field (unaligned on x86_64)
 */
public record EpollEventLayout(MemoryLayout layout, long size, long eventsOffset, long dataOffset) {

    /**
     * The layout of the architecture this JVM runs on.
     *
     * <p>Initialising it throws {@link UnsupportedOperationException} where there are no native
     * bindings (and when the portable transport is forced); nothing reaches the poller there, since
     * only the native transport loads it ({@code Transports.current()}).
     */
    static final EpollEventLayout SELECTED = of(Platform.nativeArchitecture());

    /** {@return the epoll_event layout of {@code architecture}} */
    public static EpollEventLayout of(Architecture architecture) {
        return switch (architecture) {
            case X86_64 -> new EpollEventLayout(
                    dev.tcpscope.internal.ffi.x86_64.epoll_event.layout(),
                    dev.tcpscope.internal.ffi.x86_64.epoll_event.layout().byteSize(),
                    dev.tcpscope.internal.ffi.x86_64.epoll_event.events$offset(),
                    dev.tcpscope.internal.ffi.x86_64.epoll_event.data$offset());
            case AARCH64 -> new EpollEventLayout(
                    dev.tcpscope.internal.ffi.aarch64.epoll_event.layout(),
                    dev.tcpscope.internal.ffi.aarch64.epoll_event.layout().byteSize(),
                    dev.tcpscope.internal.ffi.aarch64.epoll_event.events$offset(),
                    dev.tcpscope.internal.ffi.aarch64.epoll_event.data$offset());
        };
    }
}
