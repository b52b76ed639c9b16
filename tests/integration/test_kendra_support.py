"""Shared fixtures of the Kendra API tests (no tests here): a running Quarry with the Kendra
face on a free port, its own index prefix and Celery worker, the Alfresco simulator, and
boto3 clients signed with keys the kendra_server holds by reference.
"""

from __future__ import annotations

import functools
import json
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import botocore.auth
import jwt
import pytest
import uvicorn
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from celery import Celery
from elasticsearch import Elasticsearch

from api.app import create_app
from api.settings import ApiSettings
from devtools.alfresco_sim import Repository, SimulatorHandle, generate_repository
from search.embed import Embedder
from search.runtime import Runtime
from search.settings import Settings
from tests.integration.alfresco_fixtures import simulator
from tests.stack import (
    WorkerProcess,
    module_suffix,
    prefixed,
    ready_runtime,
    running_worker,
    wait_until,
)
from worker.app import create_app as create_celery

KEY_ID = "AKIAQUARRYKENDRA0001"
SECRET = secrets.token_urlsafe(30)
QUERY_KEY_ID = "AKIAQUARRYKENDRA0002"
QUERY_SECRET = secrets.token_urlsafe(30)
JWT_SECRET = secrets.token_urlsafe(48)
REGION = "eu-west-1"
TARGET = "AWSKendraFrontendService."
ALFRESCO_SECRET_ENV = "QUARRY_TEST_KENDRA_ALFRESCO"
SITE = "engineering"
SOURCE = "kendra-eng"

_ENV = {
    "QUARRY_TEST_KENDRA_SECRET": SECRET,
    "QUARRY_TEST_KENDRA_QUERY_SECRET": QUERY_SECRET,
    "QUARRY_KENDRA_ACCESS_KEYS": json.dumps(
        {
            KEY_ID: "env:QUARRY_TEST_KENDRA_SECRET",
            QUERY_KEY_ID: "env:QUARRY_TEST_KENDRA_QUERY_SECRET",
        }
    ),
    "QUARRY_KENDRA_QUERY_ONLY_KEYS": json.dumps([QUERY_KEY_ID]),
    "QUARRY_KENDRA_REGION": REGION,
    ALFRESCO_SECRET_ENV: json.dumps({"username": "admin", "password": "admin"}),
}


def mint(sub: str, groups: list[str] | None = None, key: str = JWT_SECRET) -> str:
    """A JWT as the identity provider would issue it."""
    claims: dict[str, Any] = {"sub": sub, "exp": int(time.time()) + 300}
    if groups is not None:
        claims["groups"] = groups
    return jwt.encode(claims, key, algorithm="HS256")


def client(kendra_endpoint: str, key_id: str = KEY_ID, secret: str = SECRET, **config: Any) -> Any:
    """An unmodified boto3 Kendra client pointed at Quarry (no retries: errors show at once)."""
    return boto3.client(
        "kendra",
        endpoint_url=kendra_endpoint,
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


def signed(
    url: str,
    operation: str,
    body: bytes,
    *,
    secret: str = SECRET,
    key_id: str = KEY_ID,
    when: datetime | None = None,
    sign_target: bool = True,
) -> dict[str, str]:
    """Headers of a request signed by botocore's SigV4 signer, optionally at another time."""
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if sign_target:
        headers["X-Amz-Target"] = TARGET + operation
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    moment = when or datetime.now(UTC)
    original = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda: moment  # type: ignore[assignment]
    try:
        SigV4Auth(Credentials(key_id, secret), "kendra", REGION).add_auth(request)
    finally:
        botocore.auth.get_current_datetime = original
    out = {k: v for k, v in request.prepare().headers.items() if k.lower() != "content-length"}
    out["X-Amz-Target"] = TARGET + operation
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def kendra_env() -> Iterator[dict[str, str]]:
    saved = {k: os.environ.get(k) for k in _ENV}
    os.environ.update(_ENV)
    yield dict(_ENV)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def kendra_settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Indices, queue and locks of this module's own (each test module runs its own Quarry)."""
    return prefixed(settings, module_suffix(request))


@pytest.fixture(scope="module")
def kendra_runtime(kendra_settings: Settings, es: Elasticsearch, embedder: Embedder) -> Runtime:
    return ready_runtime(kendra_settings, embedder)


@pytest.fixture(scope="module")
def kendra_sim() -> Iterator[SimulatorHandle]:
    with simulator() as handle:
        yield handle


@pytest.fixture(scope="module")
def kendra_worker(
    kendra_settings: Settings, kendra_env: dict[str, str], redis_client: object, log_dir: Path
) -> Iterator[WorkerProcess]:
    app: Celery = create_celery(kendra_settings)
    with running_worker(app, kendra_settings, "kendra", log_dir, **kendra_env) as proc:
        yield proc


@pytest.fixture(scope="module")
def kendra_jwt_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kendra") / "jwt-secret"
    path.write_text(JWT_SECRET + "\n")
    return path


@pytest.fixture(scope="module")
def kendra_server(
    kendra_settings: Settings, kendra_runtime: Runtime, kendra_env: dict[str, str]
) -> Iterator[Any]:
    """Quarry's real app (``api.app.create_app``) served by uvicorn on a free port."""
    settings = ApiSettings(**kendra_settings.model_dump())
    app = create_app(settings, runtime=kendra_runtime)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, name="quarry-kendra", daemon=True)
    thread.start()
    wait_until(lambda: srv.started, 60, message="uvicorn to start")
    srv.base_url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    srv.app = app  # type: ignore[attr-defined]
    yield srv
    srv.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def kendra_endpoint(kendra_server: Any) -> str:
    return f"{kendra_server.base_url}/kendra"


@pytest.fixture(scope="module")
def kendra(kendra_endpoint: str) -> Any:
    return client(kendra_endpoint)


@pytest.fixture(scope="module")
def kendra_index(kendra: Any) -> str:
    """An index with Kendra's default policy: UserId and Groups say who searches."""
    found: str = kendra.create_index(
        Name="quarry-main", RoleArn="arn:aws:iam::123456789012:role/kendra"
    )["Id"]
    return found


@pytest.fixture(scope="module")
def kendra_token_index(kendra: Any, kendra_jwt_file: Path) -> str:
    """An index whose users are identified only by JWTs signed with a shared secret."""
    found: str = kendra.create_index(
        Name="quarry-tokens",
        RoleArn="arn:aws:iam::123456789012:role/kendra",
        UserContextPolicy="USER_TOKEN",
        UserTokenConfigurations=[
            {
                "JwtTokenTypeConfiguration": {
                    "KeyLocation": "SECRET_MANAGER",
                    "SecretManagerArn": f"file:{kendra_jwt_file}",
                    "UserNameAttributeField": "sub",
                    "GroupAttributeField": "groups",
                }
            }
        ],
    )["Id"]
    return found


def alfresco_configuration(kendra_sim: SimulatorHandle, site: str, **extra: Any) -> dict[str, Any]:
    return {
        "AlfrescoConfiguration": {
            "SiteUrl": kendra_sim.base_url,
            "SiteId": site,
            "SecretArn": f"env:{ALFRESCO_SECRET_ENV}",
            "SslCertificateS3Path": {"Bucket": "system", "Key": "-"},
            **extra,
        }
    }


def wait_for_sync(
    kendra: Any, kendra_index: str, source_id: str, execution_id: str, timeout: float = 180
) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        history = kendra.list_data_source_sync_jobs(Id=source_id, IndexId=kendra_index)["History"]
        job = next((j for j in history if j["ExecutionId"] == execution_id), None)
        return job if job and job["Status"] not in ("SYNCING", "STOPPING") else None

    found: dict[str, Any] = wait_until(
        finished, timeout, interval=0.5, message=f"sync {execution_id}"
    )
    return found


@pytest.fixture(scope="module")
def kendra_synced(
    kendra: Any,
    kendra_index: str,
    kendra_sim: SimulatorHandle,
    kendra_worker: WorkerProcess,
    kendra_env: dict[str, str],
) -> dict[str, Any]:
    """The engineering site, created and synced through the Kendra API only."""
    created = kendra.create_data_source(
        Name=SOURCE,
        IndexId=kendra_index,
        Type="ALFRESCO",
        Configuration=alfresco_configuration(
            kendra_sim,
            SITE,
            EntityFilter=["documentLibrary", "wiki", "blog"],
            DocumentLibraryFieldMappings=[
                {"DataSourceFieldName": "cm_versionLabel", "IndexFieldName": "version"},
            ],
        ),
        Schedule="cron(0 12 * * ? *)",
        Description="Engineering site",
    )
    execution = kendra.start_data_source_sync_job(Id=created["Id"], IndexId=kendra_index)
    job = wait_for_sync(kendra, kendra_index, created["Id"], execution["ExecutionId"])
    return {"id": created["Id"], "execution": execution["ExecutionId"], "job": job}


def doc(kendra_sim: SimulatorHandle, landmark: str) -> str:
    """The document id of a simulator landmark in the synced engineering site."""
    return f"{SOURCE}:{kendra_sim.repository.landmarks[landmark]}"


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    code: str = exc.value.response["Error"]["Code"]
    return code


def site_docs_of(repo: Repository, site: str) -> set[str]:
    """Node ids of the site's indexable items (the crawl's scope); call with the lock held."""
    found = set()
    for node_id in repo.indexable_ids():
        names = [a.name for a in repo.ancestors(repo.get(node_id))]
        if "Sites" in names and names[names.index("Sites") + 1] == site:
            found.add(node_id)
    return found


def site_docs(kendra_sim: SimulatorHandle, site: str) -> set[str]:
    with kendra_sim.repository.lock:
        return site_docs_of(kendra_sim.repository, site)


def expected(
    kendra_sim: SimulatorHandle, user: str | None, source: str = SOURCE, site: str = SITE
) -> set[str]:
    """The oracle: document ids of the site that ``user`` may read (anonymous: none)."""
    readable = set() if user is None else kendra_sim.repository.readable_by(user)
    return {f"{source}:{node}" for node in site_docs(kendra_sim, site) & readable}


@functools.cache
def broad() -> str:
    """A query that matches every document of the site by a word of its title.

    The engine shows a document no query word matches only when it is semantically close,
    so "every readable document" needs every title represented.
    """
    repo = generate_repository()  # what the simulator serves: the default seed
    words: dict[str, None] = {}
    with repo.lock:
        for node_id in site_docs_of(repo, SITE):
            node = repo.get(node_id)
            title = str(node.properties.get("cm:title") or node.name)
            for word in re.findall(r"[A-Za-z]{3,}", title):
                words.setdefault(word.lower(), None)
    return " ".join(words)


def query_ids(
    kendra: Any,
    kendra_index: str,
    user_context: dict[str, Any] | None = None,
    text: str | None = None,
    **extra: Any,
) -> set[str]:
    args: dict[str, Any] = {
        "IndexId": kendra_index,
        "QueryText": text or broad(),
        "PageSize": 100,
        **extra,
    }
    if user_context is not None:
        args["UserContext"] = user_context
    items = kendra.query(**args)["ResultItems"]
    return {i["DocumentId"] for i in items if i["Type"] == "DOCUMENT"}
