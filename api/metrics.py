"""The API's Prometheus face: per-route request metrics and ``GET /metrics``.

Metric objects live in ``search.metrics``; this module times requests by their route
*template* (``/v1/datasources/{id}``, never a raw path) and serves the exposition.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from acl import InvalidTokenError
from search import metrics

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
def scrape() -> Response:
    """Every API process's metrics (summed across processes with ``PROMETHEUS_MULTIPROC_DIR``)."""
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


class RequestMetrics:
    """Counts and times every HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            template = str(getattr(route, "path", "")) or "<unmatched>"
            method = str(scope.get("method", ""))
            metrics.HTTP_LATENCY.labels(method, template).observe(time.perf_counter() - started)
            metrics.HTTP_REQUESTS.labels(method, template, str(status)).inc()


def token_rejected(exc: InvalidTokenError) -> None:
    """Count a refused user-context token by a reason of few values (the verifier's error type)."""
    cause = exc.__cause__
    reason = type(cause).__name__ if cause is not None else "claims"
    metrics.TOKEN_REJECTIONS.labels(reason).inc()
