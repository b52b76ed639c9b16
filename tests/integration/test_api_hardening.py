"""Hostile and careless input to the REST API: a clear 4xx naming the cause, never a 5xx.

Each case here was a 500 or a misleading status on an earlier main (issue 14).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.test_api_support import ADMIN

pytest_plugins = ["tests.integration.test_api_support"]  # the API fixtures


def _flt(op: str, key: str, value: Any) -> dict[str, Any]:
    return {op: {"key": key, "value": value}}


BAD_VALUES = [
    ("equals_to", "_created_at", "garbage", "date"),
    ("greater_than", "_created_at", "2026-13-45", "date"),
    ("equals_to", "_created_at", 10**30, "date"),
    ("greater_than", "pages", "abc", "whole number"),
    ("equals_to", "pages", "abc", "whole number"),
    ("less_than", "pages", 10**30, "whole number"),
    ("contains_any", "_created_at", ["yesterday"], "date"),
]


@pytest.mark.parametrize(("op", "key", "value", "expected"), BAD_VALUES)
@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/v1/query", {}),
        ("/v1/query", {"sort": {"attribute": "_created_at"}}),
        ("/v1/retrieve", {}),
    ],
)
def test_a_filter_value_of_the_wrong_type_is_a_400_naming_attribute_operator_and_type(
    api_client: TestClient,
    api_corpus: list[str],
    caplog: pytest.LogCaptureFixture,
    path: str,
    extra: dict[str, Any],
    op: str,
    key: str,
    value: Any,
    expected: str,
) -> None:
    body = {"query_text": "press embargo", "attribute_filter": _flt(op, key, value), **extra}
    with caplog.at_level(logging.WARNING):
        response = api_client.post(path, json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    message = error["message"]
    assert key in message and op in message and expected in message, message
    assert "search_phase_execution_exception" not in message
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_nested_filters_are_checked_too(api_client: TestClient, api_corpus: list[str]) -> None:
    body = {
        "query_text": "vacation",
        "attribute_filter": {
            "and_all": [
                _flt("equals_to", "department", "HR"),
                {"not": _flt("less_than_or_equals", "_last_updated_at", "soon")},
            ]
        },
    }
    response = api_client.post("/v1/query", json=body)
    assert response.status_code == 400
    assert "_last_updated_at" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("op", "key", "value"),
    [
        ("greater_than", "_created_at", "2023-01-01T00:00:00Z"),
        ("greater_than", "_created_at", "2023-01-01"),
        ("less_than", "pages", 5),
        ("equals_to", "department", "HR"),
        ("contains_any", "tags", ["policy"]),
        ("equals_to", "no_such_attribute", "x"),
    ],
)
def test_well_typed_filter_values_still_search(
    api_client: TestClient, api_corpus: list[str], op: str, key: str, value: Any
) -> None:
    body = {"query_text": "vacation policy", "attribute_filter": _flt(op, key, value)}
    assert api_client.post("/v1/query", json=body).status_code == 200
    sorted_body = {**body, "sort": {"attribute": "_created_at"}}
    assert api_client.post("/v1/query", json=sorted_body).status_code == 200
    assert api_client.post("/v1/retrieve", json=body).status_code == 200


@pytest.mark.parametrize("page_number", [51, 60, 100])
def test_deep_pages_up_to_the_documented_limit_are_served(
    api_client: TestClient, api_corpus: list[str], page_number: int
) -> None:
    body = {"query_text": "vacation policy", "page_size": 100, "page_number": page_number}
    response = api_client.post("/v1/query", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["results"] == []  # the corpus is small; the page is past its end
    beyond = api_client.post("/v1/query", json={**body, "page_number": 101})
    assert beyond.status_code == 400
    assert "10,000" in beyond.json()["error"]["message"]


def test_feedback_with_an_impossible_utc_offset_is_a_422_not_an_outage(
    api_client: TestClient, api_corpus: list[str]
) -> None:
    answered = api_client.post("/v1/query", json={"query_text": "vacation"}).json()
    for clicked_at in ("2026-01-01T00:00:00+19:00", "2026-01-01T00:00:00-18:30"):
        response = api_client.post(
            "/v1/feedback",
            json={
                "query_id": answered["query_id"],
                "clicks": [{"result_id": "corpus:vacation", "clicked_at": clicked_at}],
            },
        )
        assert response.status_code == 422, response.text
        fields = response.json()["error"]["fields"]
        assert fields[0]["path"] == "clicks[0].clicked_at"
        assert "18:00" in fields[0]["message"]
    edge = api_client.post(
        "/v1/feedback",
        json={
            "query_id": answered["query_id"],
            "clicks": [{"result_id": "corpus:vacation", "clicked_at": "2026-01-01T00:00:00+18:00"}],
        },
    )
    assert edge.status_code == 200, edge.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/datasources/{id}"),
        ("PUT", "/v1/datasources/{id}"),
        ("DELETE", "/v1/datasources/{id}"),
        ("POST", "/v1/datasources/{id}/check"),
        ("POST", "/v1/datasources/{id}/sync"),
        ("GET", "/v1/datasources/{id}/sync-jobs"),
        ("GET", "/v1/sync-jobs/{id}"),
        ("POST", "/v1/sync-jobs/{id}/stop"),
    ],
)
def test_overlong_admin_path_ids_are_a_422_naming_the_parameter(
    api_client: TestClient, method: str, path: str
) -> None:
    body = (
        {"name": "no-such-thing", "type": "filesystem", "config": {"root": "/tmp"}}
        if method == "PUT"
        else None
    )
    response = api_client.request(method, path.format(id="x" * 5000), headers=ADMIN, json=body)
    assert response.status_code == 422, response.text
    fields = [f["path"] for f in response.json()["error"]["fields"]]
    assert any(f in ("data_source_id", "job_id") for f in fields), fields
    # A well-formed id that does not exist is still a plain 404.
    missing = api_client.request(method, path.format(id="no-such-thing"), headers=ADMIN, json=body)
    assert missing.status_code == 404, missing.text


def test_access_logs_never_hold_query_strings(
    api_app: Any, api_corpus: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A real uvicorn server over the app: its access line keeps the path, drops ``?key=…``."""
    import threading
    import time

    import httpx
    import uvicorn

    from tests.integration.test_kendra_support import free_port

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(api_app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        thread.start()
        try:
            for _ in range(200):
                if server.started:
                    break
                time.sleep(0.05)
            response = httpx.get(
                f"http://127.0.0.1:{port}/healthz?key=hunter2-secret&user_context=x", timeout=10
            )
            assert response.status_code == 200
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("GET /healthz HTTP/1.1" in line for line in access), access
    assert not [line for line in access if "hunter2" in line or "?" in line]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_every_asset_from_the_api_itself(api_client: TestClient, page: str) -> None:
    """Offline, a page that loads Swagger UI, ReDoc or fonts from a CDN is blank."""
    import re

    html = api_client.get(page)
    assert html.status_code == 200
    assert "cdn." not in html.text and "fonts.googleapis" not in html.text
    urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html.text)
    assets = [u for u in urls if u.endswith((".js", ".css", ".png"))]
    assert assets, html.text
    for url in assets:
        assert url.startswith("/"), url  # served here, not by a third party
        asset = api_client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 1000, url


def test_openapi_describes_public_routes_errors_and_shapes(api_client: TestClient) -> None:
    spec = api_client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/v1/query", "/v1/retrieve", "/v1/suggest"):
        security = paths[path]["post"]["security"]
        assert {} in security, (path, security)  # anyone may call; the key is optional
    for method, path in [
        ("post", "/v1/datasources"),
        ("get", "/v1/datasources/{data_source_id}"),
        ("delete", "/v1/datasources/{data_source_id}"),
        ("post", "/v1/datasources/{data_source_id}/sync"),
        ("post", "/v1/sync-jobs/{job_id}/stop"),
    ]:
        op = paths[path][method]
        assert {"HTTPBearer": []} in op["security"] and {} not in op["security"]
        assert {"400", "401", "404", "409", "422"} <= set(op["responses"]), (path, method)
    assert "413" in paths["/v1/query"]["post"]["responses"]
    error_ref = "#/components/schemas/ErrorBody"
    for path, ops in paths.items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")) and path != "/readyz":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": error_ref}, (method, path, status)
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_a_body_that_is_not_utf8_is_a_422_like_any_invalid_json(api_client: TestClient) -> None:
    for raw in (b'{"query_text": "caf\xe9"}', b'{"query_text": '):
        response = api_client.post(
            "/v1/query", content=raw, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, (raw, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["fields"][0]["path"] == "body"
