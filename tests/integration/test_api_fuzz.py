"""A bounded schemathesis run against a live API: no 5xx, and every answer as the document says.

The API runs in this process under a real uvicorn server (over HTTP, as clients see it), on
its own index prefix with a few documents. Public routes are called without a key, admin
routes with one; the route that starts a sync is left out (it would queue real jobs). The seed
and the example budget are fixed, so the run is repeatable and takes well under three minutes.
Case counts are recorded in docs/reliability.md.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from search.embed import Embedder
from search.settings import Settings
from tests.corpus import SOURCE, documents
from tests.integration.test_api_support import ADMIN, make_settings
from tests.integration.test_kendra_support import free_port
from tests.stack import ready_runtime

pytest_plugins = ["tests.integration.test_api_support"]  # the API fixtures

SEED = 14
EXAMPLES = 10
"""Per operation and generation mode (positive, negative)."""
EXCLUDED = {("POST", "/v1/datasources/{data_source_id}/sync")}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def live_api(
    settings: Settings, embedder: Embedder, jwt_secret_file: Path, es: Any
) -> Iterator[str]:
    isolated = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-fuzz"})
    runtime = ready_runtime(isolated, embedder)
    runtime.pipeline.write_batch(SOURCE, documents())
    runtime.writer.refresh()
    embedder.warm_up()  # the model loads here, not under the first case's read timeout
    app = create_app(make_settings(isolated, jwt_secret_file), runtime=runtime)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="fuzz-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the API did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _public(operation: Any) -> bool:
    security = operation.definition.raw.get("security")
    return not security or {} in security


def _fuzz(
    base_url: str,
    operation: Any,
    mode: GenerationMode,
    headers: dict[str, str],
    cases: Counter[str],
    statuses: Counter[int],
    failures: list[str],
) -> None:
    label = f"{operation.method.upper()} {operation.path} [{mode.value}]"

    @hypothesis_seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=60)
        cases[label] += 1
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # record every violation, keep fuzzing
            failures.append(f"{label} -> {response.status_code}: {str(exc)[:800]}")

    try:
        run()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE, label  # no input to get wrong (e.g. /healthz)


@pytest.mark.timeout(300)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(live_api: str) -> None:
    spec = httpx.get(f"{live_api}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(spec)
    cases: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in EXCLUDED:
            continue
        headers = {} if _public(operation) else dict(ADMIN)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(live_api, operation, mode, headers, cases, statuses, failures)
    total = sum(cases.values())
    print(f"\nschemathesis: {total} cases, {len(cases)} operation/mode pairs, {dict(statuses)}")
    for label, count in sorted(cases.items()):
        print(f"  {count:4d}  {label}")
    assert total > 100, cases
    assert not failures, "\n".join(failures[:20])
