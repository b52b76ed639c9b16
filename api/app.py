"""The FastAPI application factory: ``uvicorn api.app:create_app --factory``.

Everything process-wide (settings, the runtime, the token resolver) is built here once and
handed to the routes through ``app.state``; tests pass their own settings and runtime.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from api import access_log, errors, kendra, openapi
from api.console import router as console_router
from api.console import static_files
from api.deps import Services
from api.metrics import RequestMetrics
from api.metrics import router as metrics_router
from api.middleware import BodySizeLimit, SecurityHeaders
from api.routes import admin, curation, health, search
from api.settings import api_settings
from search.logs import configure_logging
from search.runtime import Runtime
from search.settings import Settings

DESCRIPTION = """Quarry's search API. Searchers pass `user_context.token` (a JWT, or a JSON token
where trusted); without it they search anonymously and see only documents open to everyone.
Admin endpoints need `Authorization: Bearer <admin key>`."""


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    api = api_settings(settings)
    if settings is None:  # a served process (not a test embedding the app): JSON logs
        configure_logging()
    access_log.install()
    svc = Services(api, runtime or Runtime(api))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Load the embedding model in the background: /healthz answers at once, the first
        # query does not pay for the load.
        # The API embeds queries (and answer sentences) only: their model, not the passages'.
        threading.Thread(
            target=svc.runtime.embedder.warm_up, args=(True,), name="warm-up", daemon=True
        ).start()
        yield

    # /docs and /redoc with Swagger UI and ReDoc served from the fastapi-offline package: no
    # CDN, so they work where Quarry runs without Internet access.
    app = FastAPIOffline(
        title="Quarry",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        static_url="/docs-assets",
    )
    app.state.services = svc
    errors.install(app)
    app.include_router(health.router)
    app.include_router(metrics_router)
    app.include_router(search.router)
    app.include_router(admin.router)
    app.include_router(curation.router)
    app.include_router(console_router)
    kendra.install(app, svc)  # Kendra-compatible AWS JSON API at POST / and /kendra
    app.mount("/console", static_files(), name="console")
    openapi.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=api.max_request_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestMetrics)
    if api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=api.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return app
