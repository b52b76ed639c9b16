"""``quarry token`` as a newcomer runs it after ``make up``, and the API's word when tokens are off.

Each command is a fresh ``python -m api.cli`` process configured only through environment
variables; the tokens it prints are checked with the API's own resolver, so a token that
verifies here is one the API accepts.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from acl.errors import InvalidTokenError
from api.settings import ApiSettings
from search.runtime import Runtime
from search.settings import Settings
from tests.integration.test_api_support import make_settings
from tests.stack import ROOT

pytest_plugins = ["tests.integration.test_api_support"]  # the API fixtures

SECRET = secrets.token_urlsafe(48)


def quarry(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("QUARRY_JWT_")}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env={**base, "NO_COLOR": "1", "COLUMNS": "200", **env},
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "jwt-secret"
    path.write_text(SECRET + "\n")
    return path


def test_token_is_accepted_by_the_api_resolver(secret_file: Path, tmp_path: Path) -> None:
    ref = f"file:{secret_file}"
    done = quarry(
        "token",
        "--user",
        "alice",
        "--groups",
        "GROUP_sales, GROUP_emea",
        "--ttl",
        "5m",
        QUARRY_JWT_SHARED_SECRET_REF=ref,
        QUARRY_DEMO_JWT_SECRET_FILE=str(tmp_path / "absent"),
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    principal = ApiSettings(jwt_shared_secret_ref=ref).token_resolver().resolve(token)
    assert principal.user == "alice"
    assert {"GROUP_sales", "GROUP_emea"} <= set(principal.groups)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert 290 <= claims["exp"] - time.time() <= 300  # short-lived, as asked


def test_token_falls_back_to_the_demo_secret_make_up_wrote(secret_file: Path) -> None:
    done = quarry("token", "--user", "dave", QUARRY_DEMO_JWT_SECRET_FILE=str(secret_file))
    assert done.returncode == 0, done.stderr
    principal = (
        ApiSettings(jwt_shared_secret_ref=f"file:{secret_file}")
        .token_resolver()
        .resolve(done.stdout.strip())
    )
    assert principal.user == "dave"


def test_token_without_a_shared_secret_names_the_setting(tmp_path: Path) -> None:
    done = quarry("token", "--user", "alice", QUARRY_DEMO_JWT_SECRET_FILE=str(tmp_path / "none"))
    assert done.returncode == 2
    assert "QUARRY_JWT_SHARED_SECRET_REF" in done.stderr
    assert done.stdout == ""


def test_token_where_tokens_are_verified_with_a_public_key(tmp_path: Path) -> None:
    done = quarry(
        "token",
        "--user",
        "alice",
        QUARRY_JWT_PUBLIC_KEY_REF=f"file:{tmp_path / 'idp.pem'}",
        QUARRY_DEMO_JWT_SECRET_FILE=str(tmp_path / "none"),
    )
    assert done.returncode == 2
    assert "QUARRY_JWT_PUBLIC_KEY_REF" in done.stderr
    assert "identity provider" in done.stderr


@pytest.mark.parametrize("ttl", ["forever", "0s", "48h"])
def test_token_refuses_a_lifetime_that_is_not_short(secret_file: Path, ttl: str) -> None:
    done = quarry(
        "token", "--user", "alice", "--ttl", ttl, QUARRY_DEMO_JWT_SECRET_FILE=str(secret_file)
    )
    assert done.returncode == 2
    assert "--ttl" in done.stderr


def test_an_api_without_jwt_keys_names_the_settings_to_configure() -> None:
    resolver = ApiSettings(jwt_shared_secret_ref=None).token_resolver()
    token = jwt.encode({"sub": "alice", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    with pytest.raises(InvalidTokenError) as refused:
        resolver.resolve(token)
    assert "QUARRY_JWT_SHARED_SECRET_REF" in refused.value.reason
    with pytest.raises(InvalidTokenError) as garbage:
        resolver.resolve("<signed JWT>")
    assert "QUARRY_JWT_SHARED_SECRET_REF" in garbage.value.reason
    with pytest.raises(InvalidTokenError) as json_token:
        resolver.resolve('{"username": "alice"}')
    assert "QUARRY_JSON_TOKENS_TRUSTED" in json_token.value.reason


def test_the_api_answers_401_naming_the_missing_setting(
    settings: Settings, runtime: Runtime, jwt_secret_file: Path
) -> None:
    from api.app import create_app

    no_jwt = make_settings(settings, jwt_secret_file, jwt_shared_secret_ref=None)
    token = jwt.encode({"sub": "alice", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    with TestClient(create_app(no_jwt, runtime=runtime)) as client:
        response = client.post(
            "/v1/query", json={"query_text": "vacation", "user_context": {"token": token}}
        )
    assert response.status_code == 401
    assert "QUARRY_JWT_SHARED_SECRET_REF" in response.json()["error"]["message"]
