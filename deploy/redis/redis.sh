#!/usr/bin/env bash
# Start, stop and inspect the local Redis (Debian's redis-server) used as Celery's broker.
# Usage: deploy/redis/redis.sh start|stop|status|logs
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

REDIS_DIR="$QUARRY_STATE_DIR/redis-$QUARRY_REDIS_PORT"
REDIS_PID="$QUARRY_RUN_DIR/redis-$QUARRY_REDIS_PORT.pid"
REDIS_LOG="$QUARRY_LOG_DIR/redis-$QUARRY_REDIS_PORT.log"

ensure_installed() {
  command -v redis-server >/dev/null 2>&1 && return 0
  [ "$(id -u)" -eq 0 ] || die "redis-server is not installed. Install it: sudo apt-get install redis-server"
  log "installing Debian's redis-server"
  (apt-get install -y -q redis-server >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q redis-server >/dev/null 2>&1; }) \
    || die "could not install redis-server with apt-get. Install it by hand and retry."
}

ours() { [ "$(redis-cli -p "$QUARRY_REDIS_PORT" ping 2>/dev/null)" = "PONG" ] && pid_alive "$(read_pid "$REDIS_PID")"; }

start() {
  ensure_installed
  if ours; then log "Redis is already running on port $QUARRY_REDIS_PORT"; return 0; fi
  if port_open "$QUARRY_REDIS_PORT"; then
    if [ "$(redis-cli -p "$QUARRY_REDIS_PORT" ping 2>/dev/null)" = "PONG" ] && [ "${QUARRY_REDIS_ADOPT:-0}" = 1 ]; then
      log "using the Redis already listening on port $QUARRY_REDIS_PORT"; return 0
    fi
    die "port $QUARRY_REDIS_PORT is taken by another program ($(port_owner "$QUARRY_REDIS_PORT")). Stop it, set QUARRY_REDIS_PORT to a free port, or set QUARRY_REDIS_ADOPT=1 to use that Redis."
  fi
  mkdir -p "$REDIS_DIR"
  redis-server --port "$QUARRY_REDIS_PORT" --bind 127.0.0.1 --daemonize yes --pidfile "$REDIS_PID" \
    --logfile "$REDIS_LOG" --dir "$REDIS_DIR" --appendonly yes --save "" >/dev/null \
    || { show_log_tail "$REDIS_LOG"; die "redis-server did not start."; }
  wait_for "Redis" 20 redis-cli -p "$QUARRY_REDIS_PORT" ping || { show_log_tail "$REDIS_LOG"; die "Redis did not answer in time."; }
  log "Redis is up on port $QUARRY_REDIS_PORT"
}

stop() {
  local pid; pid="$(read_pid "$REDIS_PID")"
  if pid_alive "$pid"; then
    log "stopping Redis (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 20); do pid_alive "$pid" || break; sleep 0.5; done
  fi
  rm -f "$REDIS_PID"
}

status() { if ours; then echo "redis: running on port $QUARRY_REDIS_PORT"; else echo "redis: stopped"; return 3; fi; }

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  logs) show_log_tail "$REDIS_LOG" "${2:-100}" ;;
  *) echo "usage: $0 start|stop|status|logs" >&2; exit 2 ;;
esac
