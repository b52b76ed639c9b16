"""Kendra's console stores an HS256 key as a JWKS holding an ``oct`` key: Quarry accepts it.

Issue 14, item 10. The same strength rule as a plain shared secret applies (32 bytes for
HS256), and an ``oct`` key is never accepted where only public keys belong (a JWKS URL).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from pathlib import Path

import jwt
import pytest

from acl import TokenResolver
from api.kendra.errors import KendraError
from api.kendra.tokens import token_config


def _oct(secret: bytes, **extra: str) -> dict[str, str]:
    k = base64.urlsafe_b64encode(secret).rstrip(b"=").decode()
    return {"kty": "oct", "k": k, "alg": "HS256", **extra}


def _config(path: Path) -> list[dict[str, object]]:
    location = {"KeyLocation": "SECRET_MANAGER", "SecretManagerArn": f"file:{path}"}
    return [{"JwtTokenTypeConfiguration": location}]


def test_an_oct_jwks_secret_verifies_hs256_tokens(tmp_path: Path) -> None:
    secret = secrets.token_bytes(32)
    path = tmp_path / "kendra-hs256.json"
    path.write_text(json.dumps({"keys": [_oct(secret, kid="console")]}))
    config = token_config(_config(path), json_trusted=False, tags={}, warnings=[])
    assert config is not None
    resolver = TokenResolver(config)
    claims = {"sub": "alice", "groups": ["eng"], "exp": int(time.time()) + 300}
    token = jwt.encode(claims, secret, algorithm="HS256", headers={"kid": "console"})
    principal = resolver.resolve(token)
    assert principal.user == "alice"
    forged = jwt.encode(claims, secrets.token_bytes(32), algorithm="HS256")
    with pytest.raises(Exception, match="signature"):
        resolver.resolve(forged)


def test_a_short_oct_key_is_refused_like_a_short_shared_secret(tmp_path: Path) -> None:
    path = tmp_path / "weak.json"
    path.write_text(json.dumps({"keys": [_oct(b"sixteen-bytes!!!")]}))
    with pytest.raises(KendraError, match="at least 32") as info:
        token_config(_config(path), json_trusted=False, tags={}, warnings=[])
    assert info.value.code == "ValidationException"


def test_an_oct_key_in_a_public_jwks_url_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "public.json"
    path.write_text(json.dumps({"keys": [_oct(secrets.token_bytes(32))]}))
    location = {"KeyLocation": "URL", "URL": f"file://{path}"}
    with pytest.raises(KendraError, match="secret key material"):
        token_config(
            [{"JwtTokenTypeConfiguration": location}], json_trusted=False, tags={}, warnings=[]
        )
