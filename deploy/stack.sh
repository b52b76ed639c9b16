#!/usr/bin/env bash
# Bring Quarry's local stack up or down: Elasticsearch, Redis, Celery workers, the API.
# Usage: deploy/stack.sh services|up|down|status
# Workers: one runs syncs (enumeration, checkpoints), QUARRY_BATCH_WORKERS (default 1) consume
# the sync batches (extract, embed, write).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PY="$QUARRY_VENV/bin/python"
WORKER_PID="$QUARRY_RUN_DIR/worker.pid"
BATCH_WORKERS="${QUARRY_BATCH_WORKERS:-1}"
BEAT_PID="$QUARRY_RUN_DIR/scheduler.pid"
API_PID="$QUARRY_RUN_DIR/api.pid"
SIM_PID="$QUARRY_RUN_DIR/alfresco-sim.pid"
export QUARRY_ES_URL="${QUARRY_ES_URL:-http://127.0.0.1:$QUARRY_ES_PORT}"
export QUARRY_REDIS_URL="${QUARRY_REDIS_URL:-redis://127.0.0.1:$QUARRY_REDIS_PORT/0}"
export QUARRY_EMBEDDING_CACHE_PATH="${QUARRY_EMBEDDING_CACHE_PATH:-$QUARRY_ROOT/var/cache/embeddings.sqlite}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

services() {
  bash "$QUARRY_ROOT/deploy/redis/redis.sh" start
  bash "$QUARRY_ROOT/deploy/elasticsearch/es.sh" start
}

# start_bg NAME PIDFILE LOG CMD...: start CMD in the background unless it already runs.
start_bg() {
  local name="$1" pidfile="$2" logfile="$3"; shift 3
  if pid_alive "$(read_pid "$pidfile")"; then log "$name is already running"; return 0; fi
  log "starting $name (log $logfile)"
  nohup setsid "$@" >>"$logfile" 2>&1 &
  echo $! >"$pidfile"
}

stop_bg() {
  local name="$1" pidfile="$2" pid
  pid="$(read_pid "$pidfile")"
  if pid_alive "$pid"; then
    log "stopping $name (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do pid_alive "$pid" || break; sleep 0.5; done
    pid_alive "$pid" && { kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$pidfile"
}

# admin_key: a local admin bearer key, made once (mode 0600); the API is given only its hash.
admin_key() {
  local keyfile="$QUARRY_ROOT/var/admin.key"
  if [ -z "${QUARRY_ADMIN_KEY_SHA256:-}" ]; then
    if [ ! -s "$keyfile" ]; then
      (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(32))' >"$keyfile")
    fi
    QUARRY_ADMIN_KEY_SHA256="$(tr -d '\n' <"$keyfile" | sha256sum | cut -d' ' -f1)"
    export QUARRY_ADMIN_KEY_SHA256
    log "admin API key: $keyfile (Authorization: Bearer <key>; the console's 'test as user' takes it)"
  fi
}

# demo_jwt_secret: where no user-token verification is configured, a local HS256 secret (mode
# 0600) made once, given to the API by reference; `quarry token --user alice` signs with it.
demo_jwt_secret() {
  local secretfile="${QUARRY_DEMO_JWT_SECRET_FILE:-$QUARRY_ROOT/var/demo/jwt-secret}"
  if [ -z "${QUARRY_JWT_SHARED_SECRET_REF:-}${QUARRY_JWT_PUBLIC_KEY_REF:-}${QUARRY_JWT_JWKS_FILE:-}" ]; then
    if [ ! -s "$secretfile" ]; then
      mkdir -p "$(dirname "$secretfile")" && chmod 700 "$(dirname "$secretfile")"
      (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(48))' >"$secretfile")
    fi
    export QUARRY_JWT_SHARED_SECRET_REF="file:$secretfile"
    log "demo user-token secret: $secretfile (quarry token --user alice signs a token with it)"
  fi
}

up() {
  [ -x "$PY" ] || die "no virtual environment at $QUARRY_VENV: run 'make venv' (make up does it for you)."
  services
  admin_key
  demo_jwt_secret
  if port_open "$QUARRY_API_PORT" && ! pid_alive "$(read_pid "$API_PID")"; then
    die "port $QUARRY_API_PORT is taken by another program ($(port_owner "$QUARRY_API_PORT")). Stop it or set QUARRY_API_PORT."
  fi
  start_bg "the Alfresco simulator (demo data)" "$SIM_PID" "$QUARRY_LOG_DIR/alfresco-sim.log" \
    env PYTHONPATH="$QUARRY_ROOT${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m devtools.alfresco_sim --host 127.0.0.1 --port "$QUARRY_SIM_PORT" --seed 7
  local tasks batches i
  tasks="$("$PY" -m worker.queues tasks)" && batches="$("$PY" -m worker.queues batches)" \
    || die "could not read the queue names from the settings."
  start_bg "a Celery worker (sync runs)" "$WORKER_PID" "$QUARRY_LOG_DIR/worker.log" \
    "$QUARRY_VENV/bin/celery" -A worker.app worker -Q "$tasks" --loglevel=INFO --concurrency=1 --hostname "quarry@%h"
  for i in $(seq 1 "$BATCH_WORKERS"); do
    start_bg "a Celery batch worker" "$QUARRY_RUN_DIR/batch-worker-$i.pid" "$QUARRY_LOG_DIR/batch-worker-$i.log" \
      "$QUARRY_VENV/bin/celery" -A worker.app worker -Q "$batches" --loglevel=INFO --concurrency=1 --hostname "quarry-batch-$i@%h"
  done
  start_bg "the sync scheduler" "$BEAT_PID" "$QUARRY_LOG_DIR/scheduler.log" \
    "$PY" -m worker.scheduler
  start_bg "the API on http://127.0.0.1:$QUARRY_API_PORT" "$API_PID" "$QUARRY_LOG_DIR/api.log" \
    "$PY" -m uvicorn api.app:create_app --factory --host 127.0.0.1 --port "$QUARRY_API_PORT"
  wait_for "API" 120 curl -fsS "http://127.0.0.1:$QUARRY_API_PORT/readyz" \
    || { show_log_tail "$QUARRY_LOG_DIR/api.log"; die "the API did not become ready."; }
  wait_for "simulator" 30 port_open "$QUARRY_SIM_PORT" \
    || { show_log_tail "$QUARRY_LOG_DIR/alfresco-sim.log"; die "the Alfresco simulator did not start."; }
}

down() {
  stop_bg "the API" "$API_PID"
  stop_bg "the sync scheduler" "$BEAT_PID"
  stop_bg "the Celery worker" "$WORKER_PID"
  local pidfile
  for pidfile in "$QUARRY_RUN_DIR"/batch-worker-*.pid; do
    [ -e "$pidfile" ] && stop_bg "a Celery batch worker" "$pidfile"
  done
  stop_bg "the Alfresco simulator" "$SIM_PID"
  bash "$QUARRY_ROOT/deploy/elasticsearch/es.sh" stop
  bash "$QUARRY_ROOT/deploy/redis/redis.sh" stop
}

status() {
  local rc=0
  bash "$QUARRY_ROOT/deploy/elasticsearch/es.sh" status || rc=3
  bash "$QUARRY_ROOT/deploy/redis/redis.sh" status || rc=3
  local where
  local batch_pairs=() i
  for i in $(seq 1 "$BATCH_WORKERS"); do batch_pairs+=("batch-worker-$i:$QUARRY_RUN_DIR/batch-worker-$i.pid"); done
  for pair in "worker:$WORKER_PID" "${batch_pairs[@]}" "scheduler:$BEAT_PID" "api:$API_PID" "alfresco-simulator:$SIM_PID"; do
    case "${pair%%:*}" in
      api) where=" at http://127.0.0.1:$QUARRY_API_PORT/ (search console; API docs at /docs)" ;;
      alfresco-simulator) where=" at http://127.0.0.1:$QUARRY_SIM_PORT" ;;
      *) where="" ;;
    esac
    if pid_alive "$(read_pid "${pair#*:}")"; then echo "${pair%%:*}: running$where"; else echo "${pair%%:*}: stopped"; rc=3; fi
  done
  return $rc
}

case "${1:-}" in
  services) services ;;
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 services|up|down|status" >&2; exit 2 ;;
esac
