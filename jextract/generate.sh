#!/bin/sh
# Regenerates the FFM bindings under src/generated/java/dev/tcpscope/internal/ffi:
#
#   x86_64/   everything tcpscope calls, from jextract/linux_socket.h filtered by
#             jextract/includes.txt, for the x86_64 headers of this machine. Besides epoll_event,
#             every struct, constant and function descriptor in it is the same on Linux aarch64
#             (AbiProbeTest checks each against a cross-compiled probe), so the library uses
#             this package on both architectures.
#   aarch64/  struct epoll_event and union epoll_data only (jextract/includes-aarch64.txt), the
#             one layout that differs on Linux aarch64 (16 bytes, data at 8, not packed),
#             generated from the same header with clang targeting aarch64-linux-gnu and glibc's
#             aarch64 headers (Debian: libc6-dev-arm64-cross, in /usr/aarch64-linux-gnu/include).
#             internal/poll/EpollEventLayout picks one of the two by architecture.
#
# Needs a `jextract` on PATH (https://github.com/openjdk/jextract); it is not part of this
# repository. The checked-in bindings were generated with:
#   jextract built from openjdk/jextract master, commit f9866df3a178baa2e4a3746a7a6e458d783ace92
#   ("7904209: Support variable array parameters"), run on JDK 25.0.3+9 with
#   libclang 14.0.6 (Debian 12), glibc 2.36 headers, x86_64 (aarch64: libc6-dev-arm64-cross
#   2.36-8cross1, linux-libc-dev-arm64-cross 6.1.4).
#
# jextract has no option for clang's target; it reads extra clang arguments from a
# compile_flags.txt in its working directory, so the aarch64 run happens in a temporary
# directory holding one. The x86_64 bindings are generated for the machine's own headers, so
# this script refuses to run anywhere but x86_64. After regenerating, run AbiProbeTest.
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)

arch=$(uname -m)
if [ "$arch" != "x86_64" ]; then
    echo "generate.sh: the x86_64 bindings come from this machine's headers, but this machine is $arch." >&2
    echo "generate.sh: struct layouts differ between architectures; refusing to overwrite." >&2
    exit 1
fi

if ! command -v jextract >/dev/null 2>&1; then
    echo "generate.sh: no 'jextract' found on PATH." >&2
    echo "generate.sh: install jextract (https://github.com/openjdk/jextract) and put its bin on PATH." >&2
    exit 1
fi

aarch64_headers=/usr/aarch64-linux-gnu/include
if [ ! -f "$aarch64_headers/sys/epoll.h" ]; then
    echo "generate.sh: glibc's aarch64 headers are missing ($aarch64_headers/sys/epoll.h)." >&2
    echo "generate.sh: install the Debian package libc6-dev-arm64-cross (or run scripts/install-cross-tools.sh as root)." >&2
    exit 1
fi

echo "Using $(command -v jextract):"
jextract --version

ffi_dir=src/generated/java/dev/tcpscope/internal/ffi
# Remove the old bindings so that symbols dropped from the include lists disappear.
rm -rf "$ffi_dir/x86_64" "$ffi_dir/aarch64"

jextract \
    -D _GNU_SOURCE \
    --target-package dev.tcpscope.internal.ffi.x86_64 \
    --header-class-name Libc \
    --output src/generated/java \
    @jextract/includes.txt \
    jextract/linux_socket.h

# aarch64: only the target's own headers and clang's builtin ones (-nostdlibinc drops
# /usr/include, this machine's x86_64 headers, so a header missing for aarch64 is an error
# rather than a silent x86_64 fallback).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%s\n' --target=aarch64-linux-gnu -nostdlibinc -isystem "$aarch64_headers" >"$work/compile_flags.txt"
(
    cd "$work"
    jextract \
        -D _GNU_SOURCE \
        --target-package dev.tcpscope.internal.ffi.aarch64 \
        --header-class-name Aarch64Layouts \
        --output "$root/src/generated/java" \
        @"$root/jextract/includes-aarch64.txt" \
        "$root/jextract/linux_socket.h"
)

echo "Generated:"
ls "$ffi_dir/x86_64" "$ffi_dir/aarch64"
