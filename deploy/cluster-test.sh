#!/usr/bin/env bash
# `make cluster-test`: a local 3-node Elasticsearch cluster (its own ports and state, beside the
# single node), then the failover test that kills a node during a sync and a query load.
# The cluster is stopped afterwards; its data stays under $QUARRY_STATE_DIR for the next run.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$QUARRY_ROOT"

ES_SH="deploy/elasticsearch/es.sh"
bash deploy/stack.sh services  # Redis (and the single node, which the session fixtures check)
trap 'bash "$ES_SH" cluster-stop || true' EXIT
QUARRY_ES_HEAP="${QUARRY_ES_HEAP:-512m}" bash "$ES_SH" cluster "${QUARRY_ES_CLUSTER_NODES:-3}"

export QUARRY_CLUSTER_ES_URL; QUARRY_CLUSTER_ES_URL="$(bash "$ES_SH" cluster-urls)"
export QUARRY_ES_URL="${QUARRY_ES_URL:-http://127.0.0.1:$QUARRY_ES_PORT}"
export QUARRY_TEST_REDIS_URL="${QUARRY_TEST_REDIS_URL:-redis://127.0.0.1:$QUARRY_REDIS_PORT/1}"
export QUARRY_EMBEDDING_CACHE_PATH="${QUARRY_EMBEDDING_CACHE_PATH:-$QUARRY_ROOT/var/cache/embeddings.sqlite}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

log "pytest -m cluster against $QUARRY_CLUSTER_ES_URL"
"$QUARRY_VENV/bin/pytest" -q -p no:cacheprovider -s -m cluster tests/cluster "$@"
