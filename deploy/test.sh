#!/usr/bin/env bash
# `make test`: start Elasticsearch and Redis if needed, lint and type-check, then run pytest.
# The tests start their own Celery workers and isolate their data under a unique index prefix.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$QUARRY_ROOT"

bash deploy/stack.sh services
# Headless Chromium for the search console's end-to-end test.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    log "installing Debian's chromium and chromium-driver for the console test"
    apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; } \
      || log "could not install chromium: the console test will be skipped"
  fi
fi
# Debian's docker-compose validates the compose deployment (no engine needed).
if ! command -v docker-compose >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  log "installing Debian's docker-compose to validate deploy/compose"
  apt-get install -y -q docker-compose >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q docker-compose >/dev/null 2>&1; } \
    || log "could not install docker-compose: the compose validation will be skipped"
fi
export QUARRY_ES_URL="http://127.0.0.1:$QUARRY_ES_PORT"
export QUARRY_TEST_REDIS_URL="redis://127.0.0.1:$QUARRY_REDIS_PORT/1"
export QUARRY_EMBEDDING_CACHE_PATH="${QUARRY_EMBEDDING_CACHE_PATH:-$QUARRY_ROOT/var/cache/embeddings.sqlite}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

log "ruff"
"$QUARRY_VENV/bin/ruff" check .
"$QUARRY_VENV/bin/ruff" format --check .
log "import contracts"
"$QUARRY_VENV/bin/lint-imports"
log "mypy"
"$QUARRY_VENV/bin/mypy"
log "pytest"
# The cluster failover test has its own command (`make cluster-test`, run by CI after this).
"$QUARRY_VENV/bin/pytest" -q -p no:cacheprovider "$@"
