"""Liveness (``/healthz``: the process answers) and readiness (``/readyz``: its backends answer).

Readiness names the backend that fails, so an operator reading a 503 knows where to look; a
failing check reports the exception's type only, never a connection string.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from api.deps import Services, services

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_S = 2.0


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _elasticsearch(svc: Services) -> dict[str, Any]:
    try:
        health = svc.runtime.es.options(request_timeout=CHECK_TIMEOUT_S).cluster.health().body
    except Exception as exc:
        return {"ok": False, "error": f"Elasticsearch is unreachable ({type(exc).__name__})"}
    if health.get("status") == "red":
        return {"ok": False, "error": "Elasticsearch cluster status is red"}
    # Which index this API searches: `quarry query` uses the API only when it is its own.
    check: dict[str, Any] = {
        "ok": True,
        "status": health.get("status"),
        "index": svc.settings.docs_alias,
    }
    try:
        status = svc.runtime.index.embedding_status()
    except Exception as exc:
        check["embedding"] = {"error": f"unreadable ({type(exc).__name__})"}
        return check
    # Ready either way (BM25-only searches work); vector searches answer reindex_required.
    check["embedding"] = {
        "index": (status["index"] or {}).get("space"),
        "configured": status["configured"]["space"],
        "backend": status["configured"]["backend"],
        "reindex_needed": status["reindex_needed"],
    }
    return check


def _redis(svc: Services) -> dict[str, Any]:
    try:
        svc.redis.ping()
    except Exception as exc:
        return {"ok": False, "error": f"Redis is unreachable ({type(exc).__name__})"}
    return {"ok": True}


@router.get("/readyz", responses={503: {"description": "A backend is unreachable."}})
def readyz(svc: Services = Depends(services)) -> JSONResponse:
    checks = {"elasticsearch": _elasticsearch(svc), "redis": _redis(svc)}
    failing = [name for name, check in checks.items() if not check["ok"]]
    if failing:
        body: dict[str, Any] = {
            "ready": False,
            "checks": checks,
            "error": {
                "code": "backend_unavailable",
                "message": f"not ready: {', '.join(failing)} unreachable",
            },
        }
        return JSONResponse(body, status_code=503)
    return JSONResponse({"ready": True, "checks": checks})
