"""``quarry query`` answers through the running API when it serves the CLI's own index."""

from __future__ import annotations

import hashlib
import json
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from elasticsearch import Elasticsearch

from acl import Principal
from api.cli.remote import remote_search
from search.embed import Embedder
from search.query import QueryRequest
from search.runtime import Runtime
from search.settings import Settings
from tests.corpus import SOURCE, documents
from tests.stack import ROOT, prefixed, process_env, ready_runtime, wait_until

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def s(settings: Settings) -> Settings:
    return prefixed(settings, "remote")


@pytest.fixture(scope="module")
def rt(s: Settings, es: Elasticsearch, embedder: Embedder) -> Runtime:
    runtime = ready_runtime(s, embedder)
    assert not runtime.pipeline.write_batch(SOURCE, documents()).failed
    runtime.writer.refresh()
    return runtime


@pytest.fixture(scope="module")
def api(s: Settings, rt: Runtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    key = secrets.token_urlsafe(24)
    key_file = tmp_path_factory.mktemp("remote") / "admin.key"
    key_file.write_text(key + "\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = process_env(s, QUARRY_ADMIN_KEY_SHA256=hashlib.sha256(key.encode()).hexdigest())
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, 120, message="the API")
        yield {"url": url, "key_ref": f"file:{key_file}"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _query(s: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "query", *args, "--json"],
        cwd=ROOT,
        env=process_env(s, **env),
        text=True,
        capture_output=True,
        timeout=300,
        check=False,
    )


def test_query_uses_the_api_serving_its_index(s: Settings, rt: Runtime, api: dict) -> None:
    # A model path that does not exist: the CLI can only answer through the API.
    done = _query(
        s,
        "reimbursement of hotel receipts",
        "--user",
        "erin",
        QUARRY_API_URL=api["url"],
        QUARRY_ADMIN_KEY_REF=api["key_ref"],
        QUARRY_EMBEDDING_MODEL="/nonexistent/model",
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    local = rt.engine.search(
        QueryRequest(query_text="reimbursement of hotel receipts"),
        Principal(user="erin", groups=frozenset()),
    )
    assert [r["id"] for r in out["results"]] == [r.id for r in local.results]
    assert out["principal"]["user"] == "erin"


def test_an_api_serving_another_index_is_not_used(
    s: Settings, api: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUARRY_API_URL", api["url"])
    monkeypatch.setenv("QUARRY_ADMIN_KEY_REF", api["key_ref"])
    request = QueryRequest(query_text="vacation")
    erin = Principal(user="erin", groups=frozenset())
    assert remote_search(request, erin, s.docs_alias) is not None
    assert remote_search(request, erin, prefixed(s, "elsewhere").docs_alias) is None
    monkeypatch.setenv("QUARRY_ADMIN_KEY_REF", "env:QUARRY_NO_SUCH_KEY")
    # Without the admin key the CLI cannot search as a user through the API.
    assert remote_search(request, erin, s.docs_alias) is None
