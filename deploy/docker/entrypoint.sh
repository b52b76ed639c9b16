#!/bin/sh
# The container's entry point: `api`, `worker` (sync runs), `batch-worker` (a sync's batches:
# extract, embed, write; scale these), `scheduler`, `health`, or any command.
# The role is remembered in /tmp/quarry-role so that `health` (the image's HEALTHCHECK) checks
# the right thing: the API's /healthz, the worker's metrics endpoint, the scheduler's process.
set -eu

start_metrics_dir() {
  # Multiprocess metrics need an empty folder per container start.
  rm -rf "${PROMETHEUS_MULTIPROC_DIR:?}"
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
}

probe() {
  python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=4)" "$1"
}

# The admin key's hash may come as a file too (a compose or Kubernetes secret).
if [ -n "${QUARRY_ADMIN_KEY_SHA256_FILE:-}" ] && [ -r "$QUARRY_ADMIN_KEY_SHA256_FILE" ]; then
  QUARRY_ADMIN_KEY_SHA256="$(tr -d ' \n' <"$QUARRY_ADMIN_KEY_SHA256_FILE")"
  export QUARRY_ADMIN_KEY_SHA256
fi

role="${1:-api}"
case "$role" in
  api)
    shift || true
    echo api >/tmp/quarry-role
    start_metrics_dir
    exec python -m api.serve "$@"
    ;;
  worker)
    shift
    echo worker >/tmp/quarry-role
    start_metrics_dir
    exec celery -A worker.app worker -Q "$(python -m worker.queues tasks)" --loglevel=INFO \
      --concurrency="${QUARRY_WORKER_CONCURRENCY:-1}" --hostname "quarry@%h" "$@"
    ;;
  batch-worker)
    shift
    echo worker >/tmp/quarry-role
    start_metrics_dir
    exec celery -A worker.app worker -Q "$(python -m worker.queues batches)" --loglevel=INFO \
      --concurrency="${QUARRY_WORKER_CONCURRENCY:-1}" --hostname "quarry-batch@%h" "$@"
    ;;
  scheduler)
    shift
    echo scheduler >/tmp/quarry-role
    exec python -m worker.scheduler "$@"
    ;;
  health)
    case "$(cat /tmp/quarry-role 2>/dev/null || echo none)" in
      api) probe "http://127.0.0.1:${QUARRY_API_PORT:-8000}/healthz" ;;
      worker) probe "http://127.0.0.1:${QUARRY_WORKER_METRICS_PORT:-9100}/metrics" ;;
      scheduler) kill -0 1 ;;
      *) exit 0 ;;  # a one-off command: nothing long-running to check
    esac
    ;;
  *)
    exec "$@"
    ;;
esac
