#!/usr/bin/env bash
# Installs what AbiProbeTest needs to check the Linux aarch64 layouts on an x86_64 machine: a
# cross C compiler (aarch64-linux-gnu-gcc, with glibc's aarch64 headers and static libc) and a
# user-mode emulator (qemu-aarch64) to run the probe it builds. Debian packages
# gcc-aarch64-linux-gnu, libc6-dev-arm64-cross (only a Recommends of the compiler, so named here:
# without it the compiler has no headers and no libc) and qemu-user.
#
# Run by `./tcpscope test` before the suite (CI runs as root with Debian's packages reachable).
# Does nothing when both tools are already on PATH. When they are missing and cannot be installed
# (not root, no apt-get, no network), it says so and returns 0: the suite still runs, and
# AbiProbeTest then FAILS with a message naming the missing tool. It never lets the test skip.
set -uo pipefail

tools=(aarch64-linux-gnu-gcc qemu-aarch64)
packages=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)
# glibc for aarch64 as the probe links it (-static), from libc6-dev-arm64-cross
static_libc=/usr/aarch64-linux-gnu/lib/libc.a

missing() {
  local t
  for t in "${tools[@]}"; do
    command -v "$t" >/dev/null 2>&1 || return 0
  done
  [ -f "$static_libc" ] || return 0
  return 1
}

missing || exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-cross-tools: ${tools[*]} or $static_libc missing, and cannot install them here" \
       "(needs root and apt-get): AbiProbeTest will fail." \
       "Install the Debian packages ${packages[*]}." >&2
  exit 0
fi

echo "install-cross-tools: installing ${packages[*]} (for AbiProbeTest's aarch64 probe)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${packages[@]}"; } \
     >/tmp/tcpscope-install-cross-tools.log 2>&1; then
  echo "install-cross-tools: apt-get failed (log: /tmp/tcpscope-install-cross-tools.log):" >&2
  tail -20 /tmp/tcpscope-install-cross-tools.log >&2
  echo "install-cross-tools: AbiProbeTest will fail." >&2
fi
exit 0
