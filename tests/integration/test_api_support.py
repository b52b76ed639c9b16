"""Shared fixtures of the API tests (no tests here): an app over the session's real runtime.

The test modules import these fixtures by name. Tokens are real HS256 JWTs signed with a
secret that the app reads through a ``file:`` reference, exactly as a deployment would.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from connectors.models import GroupMembership
from search.runtime import Runtime
from search.settings import Settings
from tests.corpus import SOURCE, documents

JWT_SECRET = secrets.token_urlsafe(48)
ADMIN_KEY = secrets.token_urlsafe(32)
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
MAX_REQUEST_BYTES = 64 * 1024

# What each test user may read of tests/corpus.py (anonymous: the EVERYONE documents only).
PUBLIC = {"corpus:vacation", "corpus:expenses", "corpus:onboarding"}
ENGINEERING = PUBLIC | {"corpus:kubernetes", "corpus:incident"}


def mint(
    sub: str | None, groups: list[str] | None = None, exp_in: float = 300, **claims: Any
) -> str:
    """A JWT as the identity provider would issue it."""
    payload: dict[str, Any] = {"exp": int(time.time() + exp_in), **claims}
    if sub is not None:
        payload["sub"] = sub
    if groups is not None:
        payload["groups"] = groups
    return jwt.encode(payload, JWT_SECRET, algorithm="HS256")


def as_user(sub: str, groups: list[str] | None = None) -> dict[str, Any]:
    return {"token": mint(sub, groups)}


def make_settings(base: Settings, secret_file: Path, **overrides: Any) -> ApiSettings:
    values: dict[str, Any] = {
        **base.model_dump(),
        "jwt_shared_secret_ref": f"file:{secret_file}",
        "admin_key_sha256": hashlib.sha256(ADMIN_KEY.encode()).hexdigest(),
        "max_request_bytes": MAX_REQUEST_BYTES,
        # Pinned, so that QUARRY_* variables in the environment cannot change what is tested.
        "json_tokens_trusted": False,
        "cors_origins": [],
        "identity_cache_s": 30.0,
        "suggest_min_users": 1,
        "jwt_algorithms": None,
        "jwt_issuer": None,
        "jwt_audience": None,
    }
    values.update(overrides)
    return ApiSettings(**values)


@pytest.fixture(scope="session")
def jwt_secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "jwt-secret"
    path.write_text(JWT_SECRET + "\n")
    return path


@pytest.fixture(scope="session")
def api_settings(settings: Settings, jwt_secret_file: Path) -> ApiSettings:
    return make_settings(settings, jwt_secret_file)


@pytest.fixture(scope="session")
def api_corpus(runtime: Runtime) -> list[str]:
    """The fixed corpus, plus nested groups: erin ∈ platform ⊂ engineering."""
    runtime.pipeline.write_batch(SOURCE, documents())
    runtime.identities.put_memberships(
        SOURCE,
        [
            GroupMembership(group="GROUP_platform", users=["erin"]),
            GroupMembership(group="GROUP_engineering", groups=["GROUP_platform"]),
        ],
    )
    runtime.writer.refresh()
    return [d.id for d in documents()]


@pytest.fixture(scope="session")
def api_app(api_settings: ApiSettings, runtime: Runtime) -> FastAPI:
    return create_app(api_settings, runtime=runtime)


@pytest.fixture(scope="session")
def api_client(api_app: FastAPI) -> Iterator[TestClient]:
    # Server errors come back as responses (the 500 shape is under test), not as exceptions.
    with TestClient(api_app, raise_server_exceptions=False) as test_client:
        yield test_client


def query_ids(
    api_client: TestClient,
    text: str,
    user_context: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> set[str]:
    payload: dict[str, Any] = {"query_text": text, "page_size": 50, **body}
    if user_context is not None:
        payload["user_context"] = user_context
    response = api_client.post("/v1/query", json=payload, headers=headers or {})
    assert response.status_code == 200, response.text
    return {r["id"] for r in response.json()["results"]}
