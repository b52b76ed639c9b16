"""SigV4 authentication and AWS-style errors of the Kendra API, over real HTTP.

Requests are signed by botocore exactly as boto3 signs them; raw ones (for replays, tampered
bodies and malformed JSON) are signed with botocore's signer and sent with httpx.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.auth
import httpx
import pytest
from botocore.exceptions import ClientError
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import Services
from api.kendra import KendraSettings, install
from api.settings import ApiSettings
from search.runtime import Runtime
from search.settings import Settings
from tests.integration.test_kendra_support import (
    JWT_SECRET,
    KEY_ID,
    QUERY_KEY_ID,
    QUERY_SECRET,
    REGION,
    SECRET,
    TARGET,
    client,
    error_code,
    signed,
)

pytest_plugins = ["tests.integration.test_kendra_support"]  # the Kendra fixtures


def post(url: str, headers: dict[str, str], body: bytes) -> httpx.Response:
    return httpx.post(url, content=body, headers=headers, timeout=30)


def aws_error(response: httpx.Response) -> str:
    payload = response.json()
    assert set(payload) == {"__type", "message"} and payload["message"]
    assert response.headers["x-amzn-errortype"] == payload["__type"]
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    code: str = payload["__type"]
    return code


def test_boto3_works_at_the_root_and_under_kendra(kendra_server: Any) -> None:
    for endpoint in (kendra_server.base_url, f"{kendra_server.base_url}/kendra"):
        response = client(endpoint).list_indices()
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert response["ResponseMetadata"]["RequestId"]


@pytest.mark.parametrize(
    ("key_id", "secret", "region", "code"),
    [
        (KEY_ID, "not-the-secret", REGION, "InvalidSignatureException"),
        ("AKIAUNKNOWNKEY000001", SECRET, REGION, "UnrecognizedClientException"),
        (KEY_ID, SECRET, "us-east-1", "InvalidSignatureException"),
    ],
)
def test_wrong_credentials_are_refused(
    kendra_endpoint: str, key_id: str, secret: str, region: str, code: str
) -> None:
    import boto3  # type: ignore[import-untyped]

    wrong = boto3.client(
        "kendra",
        endpoint_url=kendra_endpoint,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )
    with pytest.raises(ClientError) as exc:
        wrong.list_indices()
    assert error_code(exc) == code
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize(
    ("offset_min", "code", "text"),
    [
        (-20, "InvalidSignatureException", "Signature expired"),
        (20, "InvalidSignatureException", "not yet current"),
        (-10, None, None),
        (10, None, None),
    ],
)
def test_clock_skew_beyond_fifteen_minutes_is_refused(
    kendra_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    offset_min: int,
    code: str | None,
    text: str | None,
) -> None:
    skewed = datetime.now(UTC) + timedelta(minutes=offset_min)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: skewed)
    kendra = client(kendra_endpoint)
    if code is None:
        assert kendra.list_indices()["ResponseMetadata"]["HTTPStatusCode"] == 200
        return
    with pytest.raises(ClientError) as exc:
        kendra.list_indices()
    assert error_code(exc) == code and text in exc.value.response["Error"]["Message"]


def test_a_captured_request_replays_only_inside_the_window(
    kendra_server: Any, kendra_endpoint: str
) -> None:
    body = json.dumps({"MaxResults": 5}).encode()
    headers = signed(kendra_endpoint, "ListIndices", body)
    assert post(kendra_endpoint, headers, body).status_code == 200
    assert post(kendra_endpoint, headers, body).status_code == 200  # as on AWS, within 15 min
    verifier = kendra_server.app.state.kendra.verifier
    real_clock = verifier.clock
    verifier.clock = lambda: datetime.now(UTC) + timedelta(minutes=16)
    try:
        late = post(kendra_endpoint, headers, body)
    finally:
        verifier.clock = real_clock
    assert late.status_code == 403 and aws_error(late) == "InvalidSignatureException"
    assert "Signature expired" in late.json()["message"]


def test_tampered_requests_are_refused(kendra: Any, kendra_endpoint: str) -> None:
    index_id = kendra.create_index(Name="keep-me", RoleArn="arn:aws:iam::1:role/k")["Id"]
    body = json.dumps({"Id": index_id}).encode()
    headers = signed(kendra_endpoint, "DescribeIndex", body)
    other = json.dumps({"Id": index_id, "x": 1}).encode()
    assert aws_error(post(kendra_endpoint, headers, other)) == "InvalidSignatureException"
    retargeted = {**headers, "X-Amz-Target": TARGET + "DeleteIndex"}
    refused = post(kendra_endpoint, retargeted, body)
    assert refused.status_code == 403 and aws_error(refused) == "InvalidSignatureException"
    unsigned_target = signed(kendra_endpoint, "DeleteIndex", body, sign_target=False)
    refused = post(kendra_endpoint, unsigned_target, body)
    assert aws_error(refused) == "InvalidSignatureException" and "x-amz-target" in refused.text
    assert kendra.describe_index(Id=index_id)["Name"] == "keep-me"  # nothing was deleted
    bare = post(kendra_endpoint, {"X-Amz-Target": TARGET + "ListIndices"}, b"{}")
    assert bare.status_code == 403 and aws_error(bare) == "MissingAuthenticationTokenException"
    garbage = post(
        kendra_endpoint,
        {"X-Amz-Target": TARGET + "ListIndices", "Authorization": "Bearer abc"},
        b"{}",
    )
    assert aws_error(garbage) == "IncompleteSignatureException"


@pytest.mark.parametrize(
    ("operation", "body", "status", "code"),
    [
        ("ListIndices", b"{not json", 400, "SerializationException"),
        ("ListIndices", b"[1, 2]", 400, "SerializationException"),
        ("BatchPutDocument", b"{}", 400, "UnknownOperationException"),
        ("Query", b'{"QueryText": "x"}', 400, "ValidationException"),
        (
            "Query",
            b'{"IndexId": "00000000-0000-0000-0000-000000000000", "QueryText": "x"}',
            404,
            "ResourceNotFoundException",
        ),
        ("ListIndices", b'{"MaxResults": "ten"}', 400, "ValidationException"),
        # Kendra checks an IndexId's length (36) before looking it up.
        ("Query", b'{"IndexId": "short", "QueryText": "x"}', 400, "ValidationException"),
        ("DescribeIndex", b'{"Id": "' + b"x" * 5000 + b'"}', 400, "ValidationException"),
        (
            "Query",
            b'{"IndexId": "00000000-0000-0000-0000-0000000000000", "QueryText": "x"}',
            400,
            "ValidationException",
        ),
    ],
)
def test_malformed_requests_get_kendra_errors(
    kendra_endpoint: str, operation: str, body: bytes, status: int, code: str
) -> None:
    response = post(kendra_endpoint, signed(kendra_endpoint, operation, body), body)
    assert response.status_code == status and aws_error(response) == code


@pytest.mark.parametrize(
    ("request_", "text"),
    [
        (
            {
                "AttributeFilter": {
                    "EqualsTo": {"Key": "_category", "Value": {"StringValue": "a"}},
                    "NotFilter": {"EqualsTo": {"Key": "x", "Value": {"LongValue": 1}}},
                }
            },
            "exactly one operator",
        ),
        (
            {"AttributeFilter": {"EqualsTo": {"Key": "_user_id", "Value": {"StringValue": "a"}}}},
            "UserContext",
        ),
        (
            {"AttributeFilter": {"EqualsTo": {"Key": "_nope", "Value": {"StringValue": "a"}}}},
            "unknown attribute",
        ),
        ({"AttributeFilter": {"EqualsTo": {"Key": "k", "Value": {}}}}, "exactly one of"),
        ({"QueryText": None}, "QueryText"),
        ({"PageSize": 1000}, "PageSize"),
        ({"UserContext": {"Token": "a.b.c", "UserId": "alice"}}, "not both"),
        ({"UserContext": {"Token": "a.b.c"}}, "no UserTokenConfigurations"),
        (
            {"SortingConfiguration": {"DocumentAttributeKey": "_nope", "SortOrder": "ASC"}},
            "unknown attribute",
        ),
    ],
)
def test_invalid_queries_are_validation_errors(
    kendra: Any, request_: dict[str, Any], text: str
) -> None:
    index_id = kendra.create_index(Name="validation", RoleArn="arn:aws:iam::1:role/k")["Id"]
    args = {"IndexId": index_id, "QueryText": "quarterly planning", **request_}
    with pytest.raises(ClientError) as exc:
        kendra.query(**{k: v for k, v in args.items() if v is not None})
    assert error_code(exc) == "ValidationException"
    assert text in exc.value.response["Error"]["Message"]
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_query_only_keys_cannot_administer(kendra: Any, kendra_endpoint: str) -> None:
    index_id = kendra.create_index(Name="front-end", RoleArn="arn:aws:iam::1:role/k")["Id"]
    front_end = client(kendra_endpoint, QUERY_KEY_ID, QUERY_SECRET)
    found = front_end.query(IndexId=index_id, QueryText="quarterly planning")
    assert found["ResponseMetadata"]["HTTPStatusCode"] == 200
    for call in (
        lambda: front_end.create_index(Name="x", RoleArn="arn:aws:iam::1:role/k"),
        lambda: front_end.delete_index(Id=index_id),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "AccessDeniedException"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert kendra.describe_index(Id=index_id)["Name"] == "front-end"


def test_secrets_never_reach_logs_or_responses(
    kendra: Any, kendra_endpoint: str, kendra_jwt_file: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []
    for secret in ("wrong", SECRET):
        try:
            response = client(kendra_endpoint, secret=secret).create_index(
                Name="secretive",
                RoleArn="arn:aws:iam::1:role/k",
                UserContextPolicy="USER_TOKEN",
                UserTokenConfigurations=[
                    {
                        "JwtTokenTypeConfiguration": {
                            "KeyLocation": "SECRET_MANAGER",
                            "SecretManagerArn": f"file:{kendra_jwt_file}",
                        }
                    }
                ],
            )
            bodies.append(json.dumps(kendra.describe_index(Id=response["Id"]), default=str))
        except ClientError as exc:
            bodies.append(json.dumps(exc.response, default=str))
    for secret in (SECRET, QUERY_SECRET, JWT_SECRET):
        assert secret not in caplog.text
        assert not any(secret in body for body in bodies)


def test_without_configured_keys_the_kendra_api_is_off(
    kendra_settings: Settings, kendra_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QUARRY_KENDRA_ACCESS_KEYS")
    app = FastAPI()
    install(
        app,
        Services(ApiSettings(**kendra_settings.model_dump()), kendra_runtime),
        KendraSettings(),
    )
    url = "http://testserver/"
    with TestClient(app) as test_client:
        body = b"{}"
        response = test_client.post(url, content=body, headers=signed(url, "ListIndices", body))
    assert response.status_code == 403 and response.json()["__type"] == "AccessDeniedException"
    assert "QUARRY_KENDRA_ACCESS_KEYS" in response.json()["message"]
