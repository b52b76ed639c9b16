"""Every error the API answers, in one JSON shape: ``{"error": {"code", "message"[, "fields"]}}``.

The core's stable error codes (``QuarryError.code``) map to HTTP statuses through
``api/error_codes.py``, the table the Kendra face shares. Unexpected
exceptions are logged with their traceback and answered with a bare 500: no stack trace, no
exception text (it may quote a query, a token or a backend address) ever reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from acl import AclError, InvalidTokenError
from api.error_codes import STATUS_BY_CODE
from api.metrics import token_rejected
from quarry.errors import QuarryError
from search import es_errors

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    503: "backend_unavailable",
}


class ApiError(Exception):
    """An error raised by the API layer itself (auth, limits, field checks)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        fields: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.fields = list(fields)


def field_error(path: str, message: str) -> ApiError:
    """A 422 naming one field, for limits that depend on settings (page size, query length)."""
    return ApiError(422, "validation_error", f"{path}: {message}", fields=[(path, message)])


def error_body(code: str, message: str, fields: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = [{"path": p, "message": m} for p, m in fields]
    return {"error": error}


def error_response(
    status: int,
    code: str,
    message: str,
    fields: Sequence[tuple[str, str]] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, fields), status_code=status, headers=headers)


def field_path(loc: Sequence[str | int]) -> str:
    """``("body", "facets", 0, "attribute")`` → ``facets[0].attribute``."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields: list[tuple[str, str]] = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            fields.append(("body", "request body is not valid JSON"))
            continue
        # Only the location and pydantic's message: the offending input is never echoed back.
        fields.append((field_path(err.get("loc", ())), str(err.get("msg", "invalid value"))))
    summary = "; ".join(f"{p}: {m}" for p, m in fields[:5])
    return error_response(422, "validation_error", f"invalid request: {summary}", fields)


def _loc_parts(loc: object) -> list[str | int]:
    """Connector errors give ``loc`` dotted (``"acl.0.user"``); pydantic gives a tuple."""
    parts = (
        loc.split(".")
        if isinstance(loc, str)
        else list(loc)
        if isinstance(loc, list | tuple)
        else []
    )
    return [int(p) if isinstance(p, str) and p.isdigit() else p for p in parts if p != ""]


def _invalid_config(_: Request, exc: Exception) -> JSONResponse:
    """A connector config its model rejects: a 422 naming ``config.<field>`` like any body field."""
    from sync_engine.datasources import InvalidConfig

    assert isinstance(exc, InvalidConfig)
    fields = [
        (field_path(["config", *_loc_parts(e.get("loc", ()))]), str(e.get("msg", "invalid value")))
        for e in exc.errors
    ] or [("config", exc.message)]
    return error_response(422, "validation_error", exc.message, fields)


def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.fields, exc.headers)


def _quarry_error(_: Request, exc: Exception) -> JSONResponse:
    """Any core error: its code picks the status from the shared table."""
    assert isinstance(exc, QuarryError)
    if isinstance(exc, InvalidTokenError):
        token_rejected(exc)
    status = STATUS_BY_CODE.get(exc.code, 500)
    if status == 500:
        log.error("unmapped error code %s", exc.code)
        return error_response(500, "internal_error", "internal error")
    if isinstance(exc, AclError) and status >= 500:
        # Secret or token configuration problems are the deployment's, not the caller's.
        log.error("user-context token configuration is unusable: %s", exc.message)
        return error_response(
            status, "backend_unavailable", "user-context tokens are misconfigured"
        )
    return error_response(status, exc.code, exc.message)


_BODY_NOT_PARSED = "There was an error parsing the body"
"""FastAPI's 400 for a body it cannot decode (not UTF-8): answered like any invalid JSON."""


def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == _BODY_NOT_PARSED:
        message = "request body is not valid JSON (UTF-8)"
        return error_response(
            422, "validation_error", f"invalid request: body: {message}", [("body", message)]
        )
    code = _HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


def _elasticsearch_error(_: Request, exc: Exception) -> JSONResponse:
    failure = es_errors.classify(exc)
    assert failure is not None
    if failure.kind == "unreachable":
        log.warning("Elasticsearch unreachable: %s", failure.type_name)
        return error_response(503, "backend_unavailable", "Elasticsearch is unreachable")
    if failure.kind == "overloaded":
        return error_response(
            503, "backend_unavailable", "Elasticsearch is overloaded; retry later"
        )
    log.error("Elasticsearch rejected a request: %s %s", failure.status, failure.message)
    return error_response(500, "internal_error", "internal error")


def _redis_error(_: Request, exc: Exception) -> JSONResponse:
    log.warning("Redis unreachable: %s", type(exc).__name__)
    return error_response(503, "backend_unavailable", "Redis is unreachable")


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "internal error")


def install(app: FastAPI) -> None:
    """Register the handlers; the most specific class wins in Starlette's lookup."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ApiError, _api_error)
    from sync_engine.datasources import InvalidConfig

    app.add_exception_handler(InvalidConfig, _invalid_config)
    app.add_exception_handler(QuarryError, _quarry_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    from sync_engine.backends import REDIS_ERRORS

    for es_error in es_errors.ERRORS:
        app.add_exception_handler(es_error, _elasticsearch_error)
    for redis_error in REDIS_ERRORS:
        app.add_exception_handler(redis_error, _redis_error)
    app.add_exception_handler(Exception, _unexpected)
