# Sourced by ./tcpscope and bench/run (bash): finds the JDK this repository builds and runs with.
#
# tcpscope is compiled by javac --release 25 --enable-preview: TcpScope and TcpServer use
# StructuredTaskScope, a preview API in JDK 25 (JEP 505). Preview class files load only on the
# release that compiled them, and a newer javac refuses --release 25 --enable-preview, so the
# build needs a JDK 25 exactly, not "25 or newer". pom.xml (maven.compiler.release and the
# enforcer's range [25,26)) says the same; JdkVersionsAgreeTest checks that they agree.
#
#   find_jdk NAME   prints the directory of a JDK 25, or explains on stderr why there is none and
#                   returns 1. NAME (the calling script) starts its messages.
#
# Where it looks, first match wins: JAVA_HOME; then the usual install places; then the JDK of the
# javac on PATH. TCPSCOPE_JDK_CANDIDATES, if set, replaces the usual install places: directories
# separated by ':' (for JDKs installed elsewhere, and for the tests in
# src/test/java/dev/tcpscope/launcher, which point it at fake JDKs).

# The one release the library's class files are compiled for; changing it means moving to that
# release's StructuredTaskScope (a different preview API each release) and changing pom.xml.
tcpscope_java_release=25

# Why it is exactly that release, for the messages.
tcpscope_java_reason="TcpScope and TcpServer use StructuredTaskScope, a preview API in JDK $tcpscope_java_release (JEP 505):
  preview class files run only on the release that compiled them, and a newer javac refuses
  --release $tcpscope_java_release --enable-preview."

# Prints the feature version of the JDK at $1 (e.g. 25), or nothing if $1 has no bin/java and
# bin/javac. Asks java itself, so that any vendor's layout works.
jdk_feature_version() {
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  { "$1/bin/java" -XshowSettings:properties -version 2>&1 || true; } \
    | sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n 1
}

# The directories find_jdk tries after JAVA_HOME, one per line, before the javac on PATH.
jdk_candidates() {
  local candidate
  if [ -n "${TCPSCOPE_JDK_CANDIDATES+set}" ]; then
    local IFS=:
    for candidate in $TCPSCOPE_JDK_CANDIDATES; do
      [ -n "$candidate" ] && printf '%s\n' "$candidate"
    done
    return 0
  fi
  for candidate in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* \
                   "${HOME:-/nonexistent}"/.sdkman/candidates/java/* "${HOME:-/nonexistent}"/.jdks/* \
                   /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$candidate" ] && printf '%s\n' "$candidate"
  done
  return 0
}

find_jdk() {
  local name=$1 candidate real version note="" found="" seen=$'\n'
  if [ -n "${JAVA_HOME:-}" ]; then
    version=$(jdk_feature_version "$JAVA_HOME")
    if [ "$version" = "$tcpscope_java_release" ]; then
      printf '%s\n' "$JAVA_HOME"
      return 0
    fi
    note="JAVA_HOME=$JAVA_HOME is ${version:+JDK }${version:-not a JDK}"
    found="$note"
    seen+="$(readlink -f "$JAVA_HOME")"$'\n'
  fi
  local candidates
  candidates=$(jdk_candidates)
  if command -v javac >/dev/null 2>&1; then
    candidates+=$'\n'$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
  fi
  while IFS= read -r candidate; do
    if [ -z "$candidate" ] || [ ! -d "$candidate" ]; then
      continue
    fi
    # The same JDK under two names (a symlink in /usr/lib/jvm, the javac on PATH) is tried once.
    real=$(readlink -f "$candidate")
    case "$seen" in *$'\n'"$real"$'\n'*) continue ;; esac
    seen+="$real"$'\n'
    version=$(jdk_feature_version "$candidate")
    if [ "$version" = "$tcpscope_java_release" ]; then
      if [ -n "$note" ]; then
        echo "$name: $note, but tcpscope needs JDK $tcpscope_java_release (StructuredTaskScope is a preview API of JDK $tcpscope_java_release); using $candidate" >&2
      fi
      printf '%s\n' "$candidate"
      return 0
    fi
    if [ -n "$version" ]; then
      found+="${found:+; }$candidate is JDK $version"
    fi
  done <<< "$candidates"
  printf '%s\n' \
    "$name: needs a JDK $tcpscope_java_release, exactly, and found none.${found:+ Found: $found.}" \
    "  Why $tcpscope_java_release exactly: $tcpscope_java_reason" \
    "  Install a JDK $tcpscope_java_release, e.g. Temurin $tcpscope_java_release (https://adoptium.net/temurin/releases/?version=$tcpscope_java_release)," \
    "  and set JAVA_HOME to it (or TCPSCOPE_JDK_CANDIDATES, a ':'-separated list of JDK directories)." >&2
  return 1
}
