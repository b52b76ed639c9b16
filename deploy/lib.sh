# Shared helpers for Quarry's local-stack scripts. Sourced, never executed.
# shellcheck shell=bash

QUARRY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QUARRY_STATE_DIR="${QUARRY_STATE_DIR:-/var/lib/quarry}"
QUARRY_RUN_DIR="${QUARRY_RUN_DIR:-$QUARRY_ROOT/var/run}"
QUARRY_LOG_DIR="${QUARRY_LOG_DIR:-$QUARRY_ROOT/var/log}"
QUARRY_ES_PORT="${QUARRY_ES_PORT:-9200}"
QUARRY_REDIS_PORT="${QUARRY_REDIS_PORT:-6379}"
QUARRY_API_PORT="${QUARRY_API_PORT:-8000}"
QUARRY_SIM_PORT="${QUARRY_SIM_PORT:-8899}"
QUARRY_VENV="${QUARRY_VENV:-$QUARRY_ROOT/.venv}"

mkdir -p "$QUARRY_RUN_DIR" "$QUARRY_LOG_DIR"

log() { printf '\033[1;34m[quarry]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[quarry] error:\033[0m %s\n' "$*" >&2; exit 1; }

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# port_owner PORT: a human description of whoever listens on PORT.
port_owner() {
  if command -v ss >/dev/null 2>&1; then
    ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n1
  fi
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

read_pid() { [ -f "$1" ] && cat "$1" 2>/dev/null || true; }

# need_disk DIR MB: stop unless DIR's filesystem has MB megabytes free.
need_disk() {
  local dir="$1" mb="$2" free
  mkdir -p "$dir"
  free=$(df -Pm "$dir" | awk 'NR==2 {print $4}')
  [ "${free:-0}" -ge "$mb" ] || die "only ${free} MB free under $dir; Quarry needs at least ${mb} MB there. Free some disk or set QUARRY_STATE_DIR to a larger filesystem."
}

# need_memory MB: stop unless MB megabytes of memory are available.
need_memory() {
  local avail
  avail=$(awk '/MemAvailable/ {print int($2/1024)}' /proc/meminfo)
  [ "${avail:-0}" -ge "$1" ] || die "only ${avail} MB of memory available; this step needs about $1 MB. Stop other programs or lower QUARRY_ES_HEAP."
}

# wait_for DESCRIPTION SECONDS CMD...: poll CMD once a second until it succeeds.
wait_for() {
  local what="$1" secs="$2"; shift 2
  local i
  for ((i = 0; i < secs; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  return 1
}

show_log_tail() {
  local file="$1"
  if [ -f "$file" ]; then
    printf -- '----- last lines of %s -----\n' "$file" >&2
    tail -n "${2:-40}" "$file" >&2
    printf -- '-----\n' >&2
  fi
}
