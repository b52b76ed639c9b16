"""Admin API: the admin key, data source CRUD, syncs through a real Celery worker, readiness."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from search.runtime import Runtime
from search.settings import Settings
from tests.integration.test_api_support import ADMIN, ADMIN_KEY, as_user, make_settings, query_ids
from tests.stack import WorkerProcess, wait_until

pytest_plugins = ["tests.integration.test_api_support"]  # the API fixtures


def test_admin_endpoints_need_the_key(api_client: TestClient) -> None:
    for method, path in [
        ("GET", "/v1/datasources"),
        ("GET", "/v1/index/stats"),
        ("POST", "/v1/datasources/x/sync"),
        ("GET", "/v1/sync-jobs/x"),
    ]:
        missing = api_client.request(method, path)
        assert missing.status_code == 401, path
        assert missing.headers["www-authenticate"].startswith("Bearer")
        wrong = api_client.request(method, path, headers={"Authorization": f"Bearer {ADMIN_KEY}x"})
        assert wrong.status_code == 401
        assert wrong.json()["error"] == {
            "code": "unauthorized",
            "message": "the admin key is not valid",
        }
    assert api_client.get("/v1/index/stats", headers=ADMIN).status_code == 200


def test_admin_key_is_compared_as_digests_in_constant_time(
    api_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    api_client.get("/v1/index/stats", headers={"Authorization": "Bearer guess"})
    assert calls == [
        (hashlib.sha256(b"guess").hexdigest(), hashlib.sha256(ADMIN_KEY.encode()).hexdigest())
    ]


def test_without_a_configured_key_the_admin_api_is_disabled(
    settings: Settings, jwt_secret_file: Path, runtime: Runtime
) -> None:
    disabled = make_settings(settings, jwt_secret_file, admin_key_sha256=None)
    with TestClient(create_app(disabled, runtime=runtime)) as c:
        response = c.get("/v1/datasources", headers=ADMIN)
        assert response.status_code == 503
        assert (
            response.json()["error"]["message"] == "admin API disabled: set QUARRY_ADMIN_KEY_SHA256"
        )
        assert (
            c.post(
                "/v1/query",
                json={"query_text": "vacation", "user_context": {"user_id": "erin"}},
                headers=ADMIN,
            ).status_code
            == 503
        )


def test_admin_key_setting_refuses_a_raw_key(settings: Settings) -> None:
    with pytest.raises(ValueError, match="SHA-256") as info:
        ApiSettings(**{**settings.model_dump(), "admin_key_sha256": "my-plain-admin-key"})
    assert "my-plain-admin-key" not in str(info.value)


def test_readyz_names_the_backend_that_is_down(api_settings: ApiSettings, runtime: Runtime) -> None:
    no_redis = api_settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    with TestClient(create_app(no_redis, runtime=runtime)) as c:
        response = c.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["redis"]["ok"] is False
        assert response.json()["checks"]["elasticsearch"]["ok"] is True
        assert "redis" in response.json()["error"]["message"]
        assert c.get("/healthz").status_code == 200
    no_es = api_settings.model_copy(update={"es_url": "http://127.0.0.1:1"})
    with TestClient(create_app(no_es, runtime=Runtime(no_es, embedder=runtime.embedder))) as c:
        response = c.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["elasticsearch"]["ok"] is False
        assert "elasticsearch" in response.json()["error"]["message"]
        query = c.post("/v1/query", json={"query_text": "vacation"})
        assert query.status_code == 503
        assert query.json()["error"]["code"] == "backend_unavailable"


def test_identity_test_shows_transitive_groups(
    api_client: TestClient, api_corpus: list[str]
) -> None:
    response = api_client.post(
        "/v1/identity/test", json={"user_id": "erin", "groups": ["GROUP_x"]}, headers=ADMIN
    )
    assert response.status_code == 200
    body = response.json()
    # The given groups count everywhere; the corpus source's memberships only for its documents.
    assert body["groups"] == ["GROUP_x"]
    corpus = body["sources"]["corpus"]
    assert set(corpus["groups"]) == {"GROUP_platform", "GROUP_engineering"}
    assert corpus["paths"]["GROUP_engineering"] == ["GROUP_platform", "GROUP_engineering"]


def test_principal_mappings_scoped_and_global(
    api_client: TestClient, api_corpus: list[str]
) -> None:
    engineering = {"corpus:kubernetes"}
    assert not engineering & query_ids(api_client, "kubernetes incident", as_user("quinn"))
    # A mapping scoped to another (unknown) data source is refused; a global one counts here.
    scoped = api_client.put(
        "/v1/principal-mappings/GROUP_engineering",
        json={"data_source_id": "no-such-source", "users": ["quinn"]},
        headers=ADMIN,
    )
    assert scoped.status_code == 404
    put = api_client.put(
        "/v1/principal-mappings/GROUP_engineering", json={"users": ["quinn"]}, headers=ADMIN
    )
    assert put.status_code == 200 and put.json()["data_source_id"] is None
    try:
        got = api_client.get("/v1/principal-mappings/GROUP_engineering", headers=ADMIN)
        assert got.status_code == 200 and got.json()["users"] == ["quinn"]
        assert engineering <= query_ids(api_client, "kubernetes incident", as_user("quinn"))
    finally:
        gone = api_client.delete("/v1/principal-mappings/GROUP_engineering", headers=ADMIN)
        assert gone.status_code == 204
    # The mapping's removal applies at once (the cache follows the identity generation).
    assert not engineering & query_ids(api_client, "kubernetes incident", as_user("quinn"))
    missing = api_client.get("/v1/principal-mappings/GROUP_engineering", headers=ADMIN)
    assert missing.status_code == 404


def _spec(name: str, root: Path, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "filesystem",
        "description": "API test folder",
        "config": {"root": str(root), "default_acl": {"allow_groups": ["GROUP_EVERYONE"]}},
        **extra,
    }


def _finished(api_client: TestClient, job_id: str) -> dict[str, Any] | None:
    job = api_client.get(f"/v1/sync-jobs/{job_id}", headers=ADMIN).json()
    return job if job["status"] in ("succeeded", "failed", "stopped") else None


def test_datasource_crud_and_sync_through_a_real_worker(
    api_client: TestClient, worker: WorkerProcess, tmp_path: Path, api_corpus: list[str]
) -> None:
    word = f"zyx{uuid.uuid4().hex[:8]}"
    for i in range(3):
        (tmp_path / f"note-{i}.txt").write_text(
            f"Field note {i} about the {word} migration plan.\n"
        )
    (tmp_path / "secret.txt").write_text(f"The {word} budget is restricted.\n")
    (tmp_path / "secret.txt.acl.json").write_text(json.dumps({"allow_groups": ["GROUP_finance"]}))
    name = f"api-fs-{uuid.uuid4().hex[:6]}"

    created = api_client.post("/v1/datasources", json=_spec(name, tmp_path), headers=ADMIN)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == name
    assert (
        api_client.post("/v1/datasources", json=_spec(name, tmp_path), headers=ADMIN).status_code
        == 409
    )
    assert name in [d["id"] for d in api_client.get("/v1/datasources", headers=ADMIN).json()]
    updated = api_client.put(
        f"/v1/datasources/{name}", json=_spec(name, tmp_path, description="changed"), headers=ADMIN
    )
    assert updated.status_code == 200 and updated.json()["description"] == "changed"
    assert (
        api_client.get(f"/v1/datasources/{name}", headers=ADMIN).json()["description"] == "changed"
    )
    check = api_client.post(f"/v1/datasources/{name}/check", headers=ADMIN)
    assert check.status_code == 200 and check.json()["ok"] is True

    started = api_client.post(f"/v1/datasources/{name}/sync", json={"mode": "full"}, headers=ADMIN)
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    job = wait_until(
        lambda: _finished(api_client, job_id), timeout=180, message="the sync job to finish"
    )
    assert job["status"] == "succeeded", (job, worker.log_tail())
    assert "checkpoint" not in job
    assert {k: job["stats"][k] for k in ("scanned", "added", "modified", "deleted", "failed")} == {
        "scanned": 4,
        "added": 4,
        "modified": 0,
        "deleted": 0,
        "failed": 0,
    }
    history = api_client.get(f"/v1/datasources/{name}/sync-jobs", headers=ADMIN).json()
    assert [j["id"] for j in history] == [job_id]

    # Synced documents are searchable, with the sidecar ACL enforced.
    api_client.app.state.services.runtime.writer.refresh()  # type: ignore[attr-defined]
    only = {"attribute_filter": {"equals_to": {"key": "_data_source_id", "value": name}}}
    notes = {f"{name}:note-{i}.txt" for i in range(3)}
    assert query_ids(api_client, f"{word} plan", **only) == notes
    assert query_ids(
        api_client, f"{word} budget", as_user("fin", ["GROUP_finance"]), **only
    ) == notes | {f"{name}:secret.txt"}

    stop_finished = api_client.post(f"/v1/sync-jobs/{job_id}/stop", headers=ADMIN)
    assert stop_finished.status_code == 409
    assert stop_finished.json()["error"]["code"] == "conflict"

    deleted = api_client.delete(f"/v1/datasources/{name}", headers=ADMIN)
    assert deleted.status_code == 200
    assert deleted.json() == {"id": name, "deleted_documents": 4}
    missing = api_client.get(f"/v1/datasources/{name}", headers=ADMIN)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert query_ids(api_client, f"{word} plan", **only) == set()


def test_a_running_sync_can_be_stopped(
    api_client: TestClient, worker: WorkerProcess, tmp_path: Path
) -> None:
    for i in range(150):  # fresh text each run: nothing is in the embedding cache
        (tmp_path / f"doc-{i}.txt").write_text(
            f"Document {i} {uuid.uuid4().hex} about stopping syncs.\n"
        )
    name = f"api-stop-{uuid.uuid4().hex[:6]}"
    assert (
        api_client.post("/v1/datasources", json=_spec(name, tmp_path), headers=ADMIN).status_code
        == 201
    )
    job_id = api_client.post(f"/v1/datasources/{name}/sync", headers=ADMIN).json()["job_id"]
    stopping = api_client.post(f"/v1/sync-jobs/{job_id}/stop", headers=ADMIN)
    assert stopping.status_code == 200, stopping.text
    assert stopping.json()["stop_requested"] is True
    job = wait_until(lambda: _finished(api_client, job_id), timeout=180, message="the job to stop")
    assert job["status"] == "stopped"
    assert job["stats"]["scanned"] < 150
    assert api_client.delete(f"/v1/datasources/{name}", headers=ADMIN).status_code == 200


def test_datasource_errors_name_the_field(api_client: TestClient) -> None:
    bad_config = api_client.post(
        "/v1/datasources",
        headers=ADMIN,
        json={"name": "bad-config", "type": "filesystem", "config": {"root": "/tmp", "colour": 1}},
    )
    assert bad_config.status_code == 422, bad_config.text
    assert "config.colour" in [f["path"] for f in bad_config.json()["error"]["fields"]]
    bad_name = api_client.post(
        "/v1/datasources", headers=ADMIN, json={"name": "no spaces", "type": "filesystem"}
    )
    assert bad_name.status_code == 422
    assert bad_name.json()["error"]["fields"][0]["path"] == "name"
    unknown_type = api_client.post(
        "/v1/datasources", headers=ADMIN, json={"name": "x1", "type": "gopher"}
    )
    assert unknown_type.status_code == 400
    assert api_client.get("/v1/sync-jobs/nope", headers=ADMIN).status_code == 404
    assert api_client.post("/v1/datasources/nope/sync", headers=ADMIN).status_code == 404
    assert api_client.get("/v1/datasources/nope/sync-jobs", headers=ADMIN).status_code == 404
