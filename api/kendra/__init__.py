"""A Kendra-compatible face for Quarry: existing Amazon Kendra clients work unchanged.

``install(app)`` mounts the AWS JSON 1.1 endpoint at ``POST /`` and ``POST /kendra`` (a
boto3 ``endpoint_url`` may carry that path). It is a thin translation onto the services the
native API uses: the search engine, DataSourceService/SyncService and the identity store.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.deps import Services
from api.kendra.context import KendraContext
from api.kendra.protocol import endpoint
from api.kendra.settings import KendraSettings

PATHS = ("/", "/kendra", "/kendra/")


def install(app: FastAPI, services: Services, settings: KendraSettings | None = None) -> None:
    app.state.kendra = KendraContext(services, settings or KendraSettings())
    for path in PATHS:
        app.add_api_route(path, endpoint, methods=["POST"], include_in_schema=False)


__all__ = ["KendraSettings", "install"]
