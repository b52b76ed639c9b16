#!/usr/bin/env bash
# Fetch, start, stop and inspect Quarry's local single-node Elasticsearch, or a local N-node
# cluster (for tests of failover; see `cluster` below).
#
# The node is Elasticsearch's own integ-test distribution from Maven Central (no Docker, no
# package repository), plus Quarry's small English analysis plugin built from source here.
# Usage: deploy/elasticsearch/es.sh fetch|start|stop|status|logs
#        deploy/elasticsearch/es.sh cluster [N]|cluster-stop|cluster-status|cluster-urls
#        deploy/elasticsearch/es.sh cluster-node start|stop|kill I
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

# ---- A local N-node cluster ------------------------------------------------------------------
# Nodes 1..N of one cluster on loopback, from the same distribution and plugin as the single
# node but with their own configuration, data, logs and ports: HTTP on
# QUARRY_ES_CLUSTER_PORT+I-1 (default 9250, 9251, ...), transport on that plus 100. The single
# node on QUARRY_ES_PORT is never touched. Heap per node: QUARRY_ES_HEAP (default here 512m).
CLUSTER_PORT="${QUARRY_ES_CLUSTER_PORT:-9250}"
CLUSTER_BASE="$ES_BASE/cluster-$CLUSTER_PORT"
CLUSTER_SIZE_FILE="$CLUSTER_BASE/size"

cluster_size() { cat "$CLUSTER_SIZE_FILE" 2>/dev/null || echo 0; }
node_dir() { echo "$CLUSTER_BASE/node-$1"; }
node_http() { echo $((CLUSTER_PORT + $1 - 1)); }
node_transport() { echo $((CLUSTER_PORT + 100 + $1 - 1)); }
node_pid() { read_pid "$(node_dir "$1")/node.pid"; }
node_log() { echo "$QUARRY_LOG_DIR/elasticsearch-cluster-$(node_http "$1").log"; }

cluster_urls() {
  local i urls=()
  for ((i = 1; i <= $(cluster_size); i++)); do urls+=("http://127.0.0.1:$(node_http "$i")"); done
  (IFS=,; echo "${urls[*]}")
}

configure_node() {
  local i="$1" n="$2" dir j seeds=() masters=()
  dir="$(node_dir "$i")"
  for ((j = 1; j <= n; j++)); do seeds+=("127.0.0.1:$(node_transport "$j")"); masters+=("quarry-c$j"); done
  mkdir -p "$dir/data" "$dir/logs"
  if [ ! -d "$dir/config" ]; then
    cp -R "$ES_HOME/config" "$dir/config"
    rm -f "$dir/config/elasticsearch.keystore"
  fi
  cat >"$dir/config/elasticsearch.yml" <<YAML
# Written by deploy/elasticsearch/es.sh cluster: node $i of a local $n-node test cluster.
cluster.name: quarry-cluster-$CLUSTER_PORT
node.name: quarry-c$i
network.host: 127.0.0.1
http.port: $(node_http "$i")
transport.port: $(node_transport "$i")
discovery.seed_hosts: [$(IFS=,; echo "${seeds[*]}")]
cluster.initial_master_nodes: [$(IFS=,; echo "${masters[*]}")]
xpack.security.enabled: false
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
path.data: $dir/data
path.logs: $dir/logs
YAML
}

node_start() {
  local i="$1" n dir http pid log
  n="$(cluster_size)"; dir="$(node_dir "$i")"; http="$(node_http "$i")"; log="$(node_log "$i")"
  [ "$i" -ge 1 ] && [ "$i" -le "$n" ] || die "node $i is not in the cluster (size $n; start it with: $0 cluster N)"
  pid="$(node_pid "$i")"
  if pid_alive "$pid"; then log "cluster node $i already runs (pid $pid)"; return 0; fi
  for port in "$http" "$(node_transport "$i")"; do
    port_open "$port" && die "port $port for cluster node $i is taken ($(port_owner "$port")). Set QUARRY_ES_CLUSTER_PORT to a free range."
  done
  configure_node "$i" "$n"
  if [ "$(id -u)" -eq 0 ]; then chown -R "$ES_USER" "$CLUSTER_BASE"; fi
  local runner=()
  if [ "$(id -u)" -eq 0 ]; then runner=(runuser -u "$ES_USER" --); fi
  touch "$log"
  log "starting cluster node $i on http://127.0.0.1:$http (heap $ES_HEAP, log $log)"
  "${runner[@]}" env ES_JAVA_HOME="$JAVA_FOR_ES" ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP ${QUARRY_ES_JAVA_OPTS:-}" \
    ES_PATH_CONF="$dir/config" "$ES_HOME/bin/elasticsearch" -d -p "$dir/node.pid" >>"$log" 2>&1 \
    || { show_log_tail "$log" 40; die "cluster node $i did not start (log above)."; }
}

# node_stop I [SIGNAL]: TERM waits for a clean exit; KILL is the crash the failover test needs.
node_stop() {
  local i="$1" sig="${2:-TERM}" pid
  pid="$(node_pid "$i")"
  if pid_alive "$pid"; then
    log "stopping cluster node $i (pid $pid, SIG$sig)"
    kill -s "$sig" "$pid"
    for _ in $(seq 1 60); do pid_alive "$pid" || break; sleep 1; done
    pid_alive "$pid" && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$(node_dir "$i")/node.pid"
}

cluster_start() {
  local n="${1:-3}" i
  [[ "$n" =~ ^[1-9][0-9]?$ ]] || die "cluster size must be a number from 1 to 99, not '$n'"
  local old; old="$(cluster_size)"
  if [ "$old" != 0 ] && [ "$old" != "$n" ]; then
    for ((i = 1; i <= old; i++)); do pid_alive "$(node_pid "$i")" \
      && die "a $old-node cluster runs on ports from $CLUSTER_PORT; stop it first ($0 cluster-stop)"; done
    rm -rf "$CLUSTER_BASE"  # a cluster of another size is a new cluster
  fi
  need_memory $((n * 900))
  fetch
  ensure_user
  JAVA_FOR_ES="$(find_java)"
  QUARRY_ES_JAVA_HOME="$JAVA_FOR_ES" bash "$QUARRY_ROOT/deploy/elasticsearch/analysis-plugin/build.sh" "$ES_HOME" >>"$QUARRY_LOG_DIR/es-plugin.log" 2>&1 \
    || { show_log_tail "$QUARRY_LOG_DIR/es-plugin.log" 20; die "building Quarry's English analysis plugin failed (see above)."; }
  mkdir -p "$CLUSTER_BASE"
  echo "$n" >"$CLUSTER_SIZE_FILE"
  # In parallel: a node's start waits for it to join, which needs a quorum of the others.
  local pids=()
  for ((i = 1; i <= n; i++)); do node_start "$i" & pids+=("$!"); done
  for pid in "${pids[@]}"; do wait "$pid" || die "a cluster node did not start (see above)"; done
  cluster_wait "$n"
}

cluster_wait() {
  local n="$1" url="http://127.0.0.1:$CLUSTER_PORT"
  if ! wait_for "the Elasticsearch cluster" "${QUARRY_ES_START_TIMEOUT:-300}" \
      curl -fsS "$url/_cluster/health?wait_for_nodes=$n&wait_for_status=green&timeout=1s"; then
    for ((i = 1; i <= n; i++)); do show_log_tail "$(node_log "$i")" 20; done
    die "the $n-node cluster did not form in time (logs above)."
  fi
  log "Elasticsearch cluster of $n nodes is up: $(cluster_urls)"
}

cluster_stop() {
  local i
  for ((i = 1; i <= $(cluster_size); i++)); do node_stop "$i"; done
}

cluster_status() {
  local i rc=0
  for ((i = 1; i <= $(cluster_size); i++)); do
    if pid_alive "$(node_pid "$i")"; then echo "cluster node $i: running at http://127.0.0.1:$(node_http "$i")"
    else echo "cluster node $i: stopped"; rc=3; fi
  done
  return "$rc"
}

ES_CMD="${1:-}"
case "$ES_CMD" in cluster|cluster-node) ES_HEAP="${QUARRY_ES_HEAP:-512m}" ;; esac

case "$ES_CMD" in
  cluster) cluster_start "${2:-${QUARRY_ES_CLUSTER_NODES:-3}}" ;;
  cluster-stop) cluster_stop ;;
  cluster-status) cluster_status ;;
  cluster-urls) cluster_urls ;;
  cluster-node)
    case "${2:-}" in
      start) ensure_user; JAVA_FOR_ES="$(find_java)"; node_start "${3:?node number}" ;;
      stop) node_stop "${3:?node number}" TERM ;;
      kill) node_stop "${3:?node number}" KILL ;;
      *) echo "usage: $0 cluster-node start|stop|kill I" >&2; exit 2 ;;
    esac ;;
esac
case "$ES_CMD" in cluster*) exit 0 ;; esac

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  logs) show_log_tail "$ES_STDOUT" "${2:-100}"; show_log_tail "$ES_LOGS/quarry.log" "${2:-100}" ;;
  home) echo "$ES_HOME" ;;
  *) echo "usage: $0 fetch|start|stop|status|logs|home|cluster [N]|cluster-stop|cluster-status|cluster-urls|cluster-node start|stop|kill I" >&2; exit 2 ;;
esac
