#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Build Quarry's English analysis plugin (an Elasticsearch "stable API" plugin) and install it
# into an Elasticsearch distribution as plugins/quarry-analysis/.
#
# Usage: deploy/elasticsearch/analysis-plugin/build.sh ES_HOME
#
# Compiles src/main/java with javac against the jars in ES_HOME/lib only (no Maven, no network),
# writes stable-plugin-descriptor.properties and named_components.json, and installs them with
# the jar. Idempotent: it recompiles only when a source (or this script) is newer than the built
# jar or ES_HOME's Elasticsearch version changed, and reinstalls only when the installed copy
# differs. Restart Elasticsearch after an install.
#
# Environment: QUARRY_ES_JAVA_HOME, ES_JAVA_HOME or JAVA_HOME pick the JDK (17 or newer; the first
# one that has javac wins, then /usr/lib/jvm/java-17-openjdk-*, then javac on PATH).
# QUARRY_PLUGIN_FORCE=1 forces a rebuild and reinstall.
set -euo pipefail

PLUGIN_NAME="quarry-analysis"
PLUGIN_VERSION="1.0.0"
JAVA_RELEASE=17
API_PACKAGE="org.elasticsearch.plugin.analysis"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/src/main/java"
BUILD="$HERE/build"
CLASSES="$BUILD/classes"
STAGE="$BUILD/$PLUGIN_NAME"
JAR_NAME="$PLUGIN_NAME-$PLUGIN_VERSION.jar"

info() { echo "[$PLUGIN_NAME] $*"; }
die() { echo "[$PLUGIN_NAME] error: $*" >&2; exit 1; }

[ "$#" -eq 1 ] || { echo "usage: $0 ES_HOME" >&2; exit 2; }
[ -d "$1/lib" ] || die "$1 does not look like an Elasticsearch distribution (no lib/ directory)."
ES_HOME="$(cd "$1" && pwd)"

# one_jar PATTERN: the single jar in ES_HOME/lib matching PATTERN.
one_jar() {
  local matches=("$ES_HOME"/lib/$1)
  [ "${#matches[@]}" -eq 1 ] && [ -f "${matches[0]}" ] \
    || die "expected exactly one $1 in $ES_HOME/lib, found: ${matches[*]}"
  echo "${matches[0]}"
}

ES_JAR="$(one_jar 'elasticsearch-[0-9]*.jar')"
ES_VERSION="$(basename "$ES_JAR" .jar)"
ES_VERSION="${ES_VERSION#elasticsearch-}"
CLASSPATH_JARS="$(one_jar "elasticsearch-plugin-api-$ES_VERSION.jar")"
CLASSPATH_JARS+=":$(one_jar "elasticsearch-plugin-analysis-api-$ES_VERSION.jar")"
CLASSPATH_JARS+=":$(one_jar 'lucene-core-[0-9]*.jar')"
CLASSPATH_JARS+=":$(one_jar 'lucene-analysis-common-[0-9]*.jar')"

find_jdk() {
  local candidate
  for candidate in "${QUARRY_ES_JAVA_HOME:-}" "${ES_JAVA_HOME:-}" "${JAVA_HOME:-}" \
      /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64; do
    if [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] && [ -x "$candidate/bin/jar" ]; then
      echo "$candidate"; return 0
    fi
  done
  if command -v javac >/dev/null 2>&1; then
    candidate="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
    [ -x "$candidate/bin/jar" ] && { echo "$candidate"; return 0; }
  fi
  return 1
}

# needs_build: true when the staged plugin is missing, older than a source, or for another ES version.
needs_build() {
  [ "${QUARRY_PLUGIN_FORCE:-0}" = "1" ] && return 0
  [ -f "$STAGE/$JAR_NAME" ] && [ -f "$STAGE/named_components.json" ] \
    && [ -f "$STAGE/stable-plugin-descriptor.properties" ] || return 0
  grep -qxF "elasticsearch.version=$ES_VERSION" "$STAGE/stable-plugin-descriptor.properties" || return 0
  [ -z "$(find "$SRC" "$HERE/build.sh" -newer "$STAGE/$JAR_NAME" -print -quit)" ] || return 0
  return 1
}

# named_components_json: the named_components.json Elasticsearch reads from the plugin directory:
# {"<extensible interface>": {"<component name>": "<implementing class>"}}, built from the sources'
# @NamedComponent("...") annotations and the stable analysis API interface each class implements.
named_components_json() {
  local file name iface cls entries=()
  while IFS= read -r file; do
    name="$(sed -n 's/^@NamedComponent("\([A-Za-z0-9_]*\)").*/\1/p' "$file")"
    [ -n "$name" ] || continue
    iface="$(sed -n 's/.* implements \(AnalyzerFactory\|TokenFilterFactory\|TokenizerFactory\|CharFilterFactory\)\b.*/\1/p' "$file")"
    [ "$(printf '%s\n' "$iface" | grep -c .)" -eq 1 ] \
      || die "$file: a @NamedComponent class must implement exactly one of $API_PACKAGE's factory interfaces"
    cls="${file#"$SRC"/}"; cls="${cls%.java}"; cls="${cls//\//.}"
    entries+=("$API_PACKAGE.$iface"$'\t'"$name"$'\t'"$cls")
  done < <(find "$SRC" -name '*.java' | sort)
  [ "${#entries[@]}" -gt 0 ] || die "no @NamedComponent classes found under $SRC"
  printf '%s\n' "${entries[@]}" | sort | awk -F'\t' '
    $1 != iface { printf "%s  \"%s\": {\n", (NR > 1 ? "\n  },\n" : "{\n"), $1; iface = $1; sep = "" }
    { printf "%s    \"%s\": \"%s\"", sep, $2, $3; sep = ",\n" }
    END { print "\n  }\n}" }'
}

build() {
  local jdk javac_major sources=()
  jdk="$(find_jdk)" || die "javac not found: a Java Development Kit ($JAVA_RELEASE or newer) is needed to build the plugin. Install one (apt-get install openjdk-17-jdk-headless) or set QUARRY_ES_JAVA_HOME/JAVA_HOME to it."
  javac_major="$("$jdk/bin/javac" -version 2>&1 | sed -n 's/^javac \([0-9]*\).*/\1/p')"
  [ -n "$javac_major" ] && [ "$javac_major" -ge "$JAVA_RELEASE" ] \
    || die "$jdk/bin/javac is too old ($("$jdk/bin/javac" -version 2>&1)); JDK $JAVA_RELEASE or newer is needed."
  mapfile -t sources < <(find "$SRC" -name '*.java' | sort)

  info "building for Elasticsearch $ES_VERSION with $jdk/bin/javac"
  rm -rf "$CLASSES" "$STAGE"
  mkdir -p "$CLASSES" "$STAGE"
  "$jdk/bin/javac" --release "$JAVA_RELEASE" -proc:none -encoding UTF-8 -Xlint:all -Werror \
    -cp "$CLASSPATH_JARS" -d "$CLASSES" "${sources[@]}"

  named_components_json >"$STAGE/named_components.json"
  cat >"$STAGE/stable-plugin-descriptor.properties" <<EOF
# Written by deploy/elasticsearch/analysis-plugin/build.sh
description=Quarry English analysis: quarry_english analyzer and English possessive, stop and Porter stem token filters
version=$PLUGIN_VERSION
name=$PLUGIN_NAME
elasticsearch.version=$ES_VERSION
java.version=$JAVA_RELEASE
modular=false
EOF
  # The jar is written last: its presence and timestamp mark a complete build (see needs_build).
  "$jdk/bin/jar" --create --file "$STAGE/$JAR_NAME" -C "$CLASSES" .
}

install_plugin() {
  local dest="$ES_HOME/plugins/$PLUGIN_NAME"
  if [ "${QUARRY_PLUGIN_FORCE:-0}" != "1" ] && [ -d "$dest" ] && diff -rq "$STAGE" "$dest" >/dev/null 2>&1; then
    info "$dest is up to date"
    return 0
  fi
  # Stage next to build/, never inside ES_HOME/plugins: Elasticsearch loads every directory there.
  mkdir -p "$ES_HOME/plugins" || die "cannot create $ES_HOME/plugins"
  rm -rf "$dest"
  cp -R "$STAGE" "$dest" || die "cannot install into $dest"
  chmod -R a+rX "$dest"
  info "installed into $dest (restart Elasticsearch to load it)"
}

if needs_build; then
  build
else
  info "build is up to date ($STAGE)"
fi
install_plugin
