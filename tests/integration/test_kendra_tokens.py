"""User-token keys of Kendra indexes: PEM public keys, JWKS files, audiences, JSON tokens."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import Services
from api.kendra import install
from api.settings import ApiSettings
from search.runtime import Runtime
from search.settings import Settings
from tests.integration.test_kendra_support import error_code, signed

pytest_plugins = ["tests.integration.test_kendra_support"]  # the Kendra fixtures


def _rsa_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_jwt_keys_from_a_pem_a_jwks_url_and_an_audience_tag(kendra: Any, tmp_path: Any) -> None:
    key, stranger = _rsa_key(), _rsa_key()
    pem = tmp_path / "idp.pem"
    pem.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig"}]}))
    locations = {
        "pem": {"KeyLocation": "SECRET_MANAGER", "SecretManagerArn": f"file:{pem}"},
        "jwks": {"KeyLocation": "URL", "URL": f"file://{jwks}"},
    }
    for name, location in locations.items():
        index_id = kendra.create_index(
            Name=f"rsa-{name}",
            RoleArn="arn:aws:iam::1:role/k",
            UserContextPolicy="USER_TOKEN",
            UserTokenConfigurations=[{"JwtTokenTypeConfiguration": location}],
            Tags=[{"Key": "quarry:jwt-audience", "Value": "quarry-search"}],
        )["Id"]

        def token(signer: Any, **claims: Any) -> str:
            body = {"sub": "alice", "exp": int(datetime.now(UTC).timestamp()) + 300, **claims}
            return jwt.encode(body, signer, algorithm="RS256", headers={"kid": "k1"})

        ok = kendra.query(
            IndexId=index_id,
            QueryText="plans",
            UserContext={"Token": token(key, aud="quarry-search")},
        )
        assert ok["ResponseMetadata"]["HTTPStatusCode"] == 200
        for bad in (
            token(stranger, aud="quarry-search"),
            token(key, aud="another-service"),
            token(key, aud="quarry-search", exp=1),
        ):
            with pytest.raises(ClientError) as exc:
                kendra.query(IndexId=index_id, QueryText="plans", UserContext={"Token": bad})
            assert error_code(exc) == "AccessDeniedException"


def test_json_tokens_only_where_the_deployment_trusts_them(
    kendra_settings: Settings, kendra_runtime: Runtime
) -> None:
    app = FastAPI()
    trusted = ApiSettings(**{**kendra_settings.model_dump(), "json_tokens_trusted": True})
    install(app, Services(trusted, kendra_runtime))
    url = "http://testserver/"
    json_tokens = {
        "UserTokenConfigurations": [
            {
                "JsonTokenTypeConfiguration": {
                    "UserNameAttributeField": "username",
                    "GroupAttributeField": "groups",
                }
            }
        ],
        "UserContextPolicy": "USER_TOKEN",
        "Name": "gateway",
        "RoleArn": "arn:aws:iam::1:role/k",
    }

    def call(test_client: TestClient, operation: str, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload).encode()
        return test_client.post(url, content=body, headers=signed(url, operation, body))

    with TestClient(app) as test_client:
        created = call(test_client, "CreateIndex", json_tokens)
        assert created.status_code == 200, created.text
        token = json.dumps({"username": "alice", "groups": ["GROUP_engineering"]})
        found = call(
            test_client,
            "Query",
            {
                "IndexId": created.json()["Id"],
                "QueryText": "plans",
                "UserContext": {"Token": token},
            },
        )
        assert found.status_code == 200, found.text
        unsigned_jwt = call(
            test_client,
            "Query",
            {
                "IndexId": created.json()["Id"],
                "QueryText": "plans",
                "UserContext": {"Token": "a.b.c"},
            },
        )
        assert unsigned_jwt.json()["__type"] == "AccessDeniedException"


def test_json_tokens_stop_when_the_deployment_stops_trusting_them(
    kendra_settings: Settings, kendra_runtime: Runtime
) -> None:
    """An index made while JSON tokens were trusted must not keep accepting them after."""
    url = "http://testserver/"
    trusted_app, untrusted_app = FastAPI(), FastAPI()
    trusted = ApiSettings(**{**kendra_settings.model_dump(), "json_tokens_trusted": True})
    untrusted = ApiSettings(**{**kendra_settings.model_dump(), "json_tokens_trusted": False})
    install(trusted_app, Services(trusted, kendra_runtime))
    install(untrusted_app, Services(untrusted, kendra_runtime))

    def call(test_client: TestClient, operation: str, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload).encode()
        return test_client.post(url, content=body, headers=signed(url, operation, body))

    with TestClient(trusted_app) as test_client:
        created = call(
            test_client,
            "CreateIndex",
            {
                "UserTokenConfigurations": [
                    {
                        "JsonTokenTypeConfiguration": {
                            "UserNameAttributeField": "username",
                            "GroupAttributeField": "groups",
                        }
                    }
                ],
                "UserContextPolicy": "USER_TOKEN",
                "Name": "gateway-revoked",
                "RoleArn": "arn:aws:iam::1:role/k",
            },
        )
        assert created.status_code == 200, created.text
    token = json.dumps({"username": "alice", "groups": ["GROUP_engineering"]})
    with TestClient(untrusted_app) as test_client:
        forged = call(
            test_client,
            "Query",
            {
                "IndexId": created.json()["Id"],
                "QueryText": "plans",
                "UserContext": {"Token": token},
            },
        )
        assert forged.json().get("__type") == "AccessDeniedException", forged.text
