#!/usr/bin/env bash
# Fetch, start, stop and inspect Quarry's local single-node Elasticsearch.
#
# The node is Elasticsearch's own integ-test distribution from Maven Central (no Docker, no
# package repository), plus Quarry's small English analysis plugin built from source here.
# Usage: deploy/elasticsearch/es.sh fetch|start|stop|status|logs
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

ES_VERSION="${QUARRY_ES_VERSION:-8.19.21}"
ES_ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
ES_BASE="$QUARRY_STATE_DIR/elasticsearch"
ES_HOME="$ES_BASE/elasticsearch-$ES_VERSION"
ES_DATA="$ES_BASE/data-$QUARRY_ES_PORT"
ES_LOGS="$ES_BASE/logs-$QUARRY_ES_PORT"
# The node writes (and deletes) its own pid file, so it lives in the state directory the node's
# user owns, never in the checkout (whose parent folders that user may not be able to enter).
ES_PID="$ES_BASE/elasticsearch-$QUARRY_ES_PORT.pid"
ES_STDOUT="$QUARRY_LOG_DIR/elasticsearch-$QUARRY_ES_PORT.log"
ES_USER="${QUARRY_ES_USER:-quarry-es}"
ES_HEAP="${QUARRY_ES_HEAP:-1g}"
ES_URL="http://127.0.0.1:$QUARRY_ES_PORT"

find_java() {
  local candidate
  for candidate in "${QUARRY_ES_JAVA_HOME:-}" /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64 \
      /usr/lib/jvm/temurin-25-jdk-amd64 "${JAVA_HOME:-}"; do
    if [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ]; then
      echo "$candidate"; return 0
    fi
  done
  if command -v javac >/dev/null 2>&1; then
    dirname "$(dirname "$(readlink -f "$(command -v javac)")")"; return 0
  fi
  die "no Java Development Kit (17 or newer) found. Install one (apt-get install openjdk-17-jdk-headless) or set QUARRY_ES_JAVA_HOME."
}

fetch() {
  if [ -x "$ES_HOME/bin/elasticsearch" ]; then return 0; fi
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to fetch Elasticsearch from Maven Central. Install it: apt-get install maven."
  command -v unzip >/dev/null 2>&1 || die "unzip is needed to unpack Elasticsearch. Install it: apt-get install unzip."
  need_disk "$QUARRY_STATE_DIR" 1024
  local dl="$ES_BASE/download"
  mkdir -p "$dl"
  log "fetching Elasticsearch $ES_VERSION from Maven Central (cached in ~/.m2 after the first time)"
  if ! mvn -q -o dependency:copy -Dartifact="$ES_ARTIFACT" -DoutputDirectory="$dl" >/dev/null 2>&1; then
    mvn -q -B dependency:copy -Dartifact="$ES_ARTIFACT" -DoutputDirectory="$dl" >"$QUARRY_LOG_DIR/es-fetch.log" 2>&1 \
      || { show_log_tail "$QUARRY_LOG_DIR/es-fetch.log" 20; die "could not fetch $ES_ARTIFACT. Is Maven Central reachable (check proxy settings in ~/.m2/settings.xml)?"; }
  fi
  unzip -q -o "$dl/elasticsearch-$ES_VERSION.zip" -d "$ES_BASE"
  rm -rf "$dl"
}

ensure_user() {
  if [ "$(id -u)" -ne 0 ]; then ES_USER="$(id -un)"; return 0; fi
  # Elasticsearch refuses to run as root: run it as a dedicated system user.
  id "$ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER" \
    || die "could not create the system user $ES_USER that runs Elasticsearch (it refuses to run as root)."
}

configure() {
  mkdir -p "$ES_DATA" "$ES_LOGS"
  cat >"$ES_HOME/config/elasticsearch.yml" <<YAML
# Written by deploy/elasticsearch/es.sh: a local, single-node, loopback-only development node.
cluster.name: quarry
node.name: quarry-local
discovery.type: single-node
network.host: 127.0.0.1
http.port: $QUARRY_ES_PORT
transport.port: $((QUARRY_ES_PORT + 100))
xpack.security.enabled: false
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
path.data: $ES_DATA
path.logs: $ES_LOGS
YAML
  JAVA_FOR_ES="$(find_java)"
  QUARRY_ES_JAVA_HOME="$JAVA_FOR_ES" bash "$QUARRY_ROOT/deploy/elasticsearch/analysis-plugin/build.sh" "$ES_HOME" >>"$ES_STDOUT" 2>&1 \
    || { show_log_tail "$ES_STDOUT" 20; die "building Quarry's English analysis plugin failed (see above)."; }
  if [ "$(id -u)" -eq 0 ]; then chown -R "$ES_USER" "$ES_BASE"; fi
}

healthy() { curl -fsS "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; }

is_ours() { curl -fsS "$ES_URL/_cluster/health" 2>/dev/null | grep -q '"cluster_name":"quarry"'; }

start() {
  if healthy && is_ours; then log "Elasticsearch is already running at $ES_URL"; return 0; fi
  if port_open "$QUARRY_ES_PORT"; then
    die "port $QUARRY_ES_PORT is taken by another program ($(port_owner "$QUARRY_ES_PORT")). Stop it, or set QUARRY_ES_PORT to a free port."
  fi
  if port_open "$((QUARRY_ES_PORT + 100))"; then
    die "transport port $((QUARRY_ES_PORT + 100)) is taken by another program ($(port_owner $((QUARRY_ES_PORT + 100)))). Stop it, or set QUARRY_ES_PORT."
  fi
  need_memory 1536
  fetch
  ensure_user
  configure
  log "starting Elasticsearch $ES_VERSION on $ES_URL (heap $ES_HEAP, log $ES_STDOUT)"
  local runner=()
  if [ "$(id -u)" -eq 0 ]; then runner=(runuser -u "$ES_USER" --); fi
  touch "$ES_STDOUT"  # written by this shell's redirect, not by the node's user
  "${runner[@]}" env ES_JAVA_HOME="$JAVA_FOR_ES" ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP ${QUARRY_ES_JAVA_OPTS:-}" \
    ES_PATH_CONF="$ES_HOME/config" "$ES_HOME/bin/elasticsearch" -d -p "$ES_PID" >>"$ES_STDOUT" 2>&1 \
    || { show_log_tail "$ES_STDOUT" 40; show_log_tail "$ES_LOGS/quarry.log" 40; die "Elasticsearch did not start (log above, full log in $ES_STDOUT)."; }
  if ! wait_for "Elasticsearch" "${QUARRY_ES_START_TIMEOUT:-180}" curl -fsS "$ES_URL/_cluster/health?wait_for_status=green&timeout=1s"; then
    show_log_tail "$ES_STDOUT" 40
    show_log_tail "$ES_LOGS/quarry.log" 40
    die "Elasticsearch did not become healthy in time (full log in $ES_STDOUT)."
  fi
  log "Elasticsearch is up at $ES_URL"
}

stop() {
  local pid; pid="$(read_pid "$ES_PID")"
  if pid_alive "$pid"; then
    log "stopping Elasticsearch (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 60); do pid_alive "$pid" || break; sleep 1; done
    pid_alive "$pid" && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$ES_PID"
}

status() {
  if healthy && is_ours; then echo "elasticsearch: running at $ES_URL"; else echo "elasticsearch: stopped"; return 3; fi
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  logs) show_log_tail "$ES_STDOUT" "${2:-100}"; show_log_tail "$ES_LOGS/quarry.log" "${2:-100}" ;;
  home) echo "$ES_HOME" ;;
  *) echo "usage: $0 fetch|start|stop|status|logs|home" >&2; exit 2 ;;
esac
