"""What an Elasticsearch client exception means, so the faces answer it without importing the
client: unreachable and overloaded clusters are worth a retry, a rejected request is not."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from elasticsearch import ApiError, ConnectionError, ConnectionTimeout

ERRORS: tuple[type[Exception], ...] = (ConnectionError, ConnectionTimeout, ApiError)
"""The client's exception classes a face registers a handler for."""

OVERLOADED_STATUSES = (429, 502, 503, 504)


class EsFailure(NamedTuple):
    kind: Literal["unreachable", "overloaded", "rejected"]
    status: int | None
    """Elasticsearch's HTTP status; None when it was never reached."""
    type_name: str
    """The client's exception class, for logs."""
    message: str
    """The client's own message (no credentials: the client never puts them there)."""
    reason: str
    """``status type: reason`` of Elasticsearch's root cause, for a rejected request."""


def classify(exc: BaseException) -> EsFailure | None:
    """The failure ``exc`` stands for; None when it is not an Elasticsearch client error."""
    if isinstance(exc, ConnectionError | ConnectionTimeout):
        return EsFailure("unreachable", None, type(exc).__name__, exc.message, exc.message)
    if isinstance(exc, ApiError):
        status = exc.meta.status
        kind: Literal["overloaded", "rejected"] = (
            "overloaded" if status in OVERLOADED_STATUSES else "rejected"
        )
        return EsFailure(kind, status, type(exc).__name__, exc.message, _reason(exc))
    return None


def _reason(exc: Any) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error")
    if isinstance(error, dict):
        cause = (error.get("root_cause") or [error])[0]
        return f"{exc.meta.status} {cause.get('type')}: {cause.get('reason')}"
    return f"{exc.meta.status} {exc.message}"
