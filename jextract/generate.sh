#!/bin/sh
# Regenerates the FFM bindings in src/generated/java/dev/tcpscope/internal/ffi/x86_64
# from jextract/linux_socket.h, filtered by jextract/includes.txt.
#
# Needs a `jextract` on PATH (https://github.com/openjdk/jextract); it is not part of this
# repository. The checked-in bindings were generated with:
#   jextract built from openjdk/jextract master, commit f9866df3a178baa2e4a3746a7a6e458d783ace92
#   ("7904209: Support variable array parameters"), run on JDK 25.0.3+9 with
#   libclang 14.0.6 (Debian 12), glibc 2.36 headers, x86_64.
#
# The bindings are per-architecture (e.g. struct epoll_event is packed on x86_64 only), so
# this script refuses to run anywhere else. After regenerating, run AbiProbeTest.
set -eu

cd "$(dirname "$0")/.."

arch=$(uname -m)
if [ "$arch" != "x86_64" ]; then
    echo "generate.sh: these bindings are for x86_64, but this machine is $arch." >&2
    echo "generate.sh: struct layouts differ between architectures; refusing to overwrite." >&2
    exit 1
fi

if ! command -v jextract >/dev/null 2>&1; then
    echo "generate.sh: no 'jextract' found on PATH." >&2
    echo "generate.sh: install jextract (https://github.com/openjdk/jextract) and put its bin on PATH." >&2
    exit 1
fi

echo "Using $(command -v jextract):"
jextract --version

package_dir=src/generated/java/dev/tcpscope/internal/ffi/x86_64
# Remove the old bindings so that symbols dropped from includes.txt disappear.
rm -rf "$package_dir"

jextract \
    -D _GNU_SOURCE \
    --target-package dev.tcpscope.internal.ffi.x86_64 \
    --header-class-name Libc \
    --output src/generated/java \
    @jextract/includes.txt \
    jextract/linux_socket.h

echo "Generated:"
ls "$package_dir"
