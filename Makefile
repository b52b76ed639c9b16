# Quarry's two front-door commands: `make up` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: venv up down status test reliability cluster-test lint services bench-relevance clean

$(STAMP): pyproject.toml
	@command -v python3 >/dev/null || { echo "python3 (3.11 or 3.12) is needed" >&2; exit 1; }
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip >/dev/null
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## Bring the whole stack up, sync the demo data source and run a search.
up: venv
	@bash deploy/stack.sh up
	@$(VENV)/bin/quarry demo

## Stop everything `make up` started.
down:
	@bash deploy/stack.sh down

status:
	@bash deploy/stack.sh status

services: venv
	@bash deploy/stack.sh services

## Lint, type-check and run every test against real Elasticsearch, Redis and Celery workers.
test: venv
	@bash deploy/test.sh

## Restart, freeze and empty an Elasticsearch and a Redis of its own mid-sync (several minutes).
reliability: venv
	@bash deploy/test.sh -m reliability tests/reliability

## Kill one node of a local 3-node Elasticsearch cluster during a sync and a query load (~5 min).
cluster-test: venv
	@bash deploy/cluster-test.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

clean: down
	rm -rf var
