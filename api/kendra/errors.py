"""AWS-style errors of the Kendra API: ``{"__type": Code, "message": ...}`` with a status.

Core errors (``search.errors``, ``acl``, Elasticsearch, Redis) are translated once here, so
every operation fails the way a Kendra client expects and no internal detail (a backend
address, a stack trace) reaches the caller.
"""

from __future__ import annotations

import logging

import redis
from elasticsearch import ApiError as EsApiError
from elasticsearch import ConnectionError as EsConnectionError
from elasticsearch import ConnectionTimeout as EsConnectionTimeout
from pydantic import ValidationError

from acl import AclError, InvalidTokenError
from api.metrics import token_rejected
from search.errors import BadRequest, Conflict, NotFound, SearchError

log = logging.getLogger(__name__)

STATUS: dict[str, int] = {
    "ValidationException": 400,
    "SerializationException": 400,
    "UnknownOperationException": 400,
    "ThrottlingException": 400,
    "ResourceInUseException": 400,
    "ResourceNotFoundException": 404,
    "AccessDeniedException": 403,
    "UnrecognizedClientException": 403,
    "InvalidSignatureException": 403,
    "MissingAuthenticationTokenException": 403,
    "IncompleteSignatureException": 403,
    "ConflictException": 409,
    "InternalServerException": 500,
}


class KendraError(Exception):
    """An error answered to the client as-is; ``code`` is the AWS error type."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return STATUS.get(self.code, 400)


def validation(message: str) -> KendraError:
    return KendraError("ValidationException", message)


def not_found(message: str) -> KendraError:
    return KendraError("ResourceNotFoundException", message)


def pydantic_message(exc: ValidationError) -> str:
    """Field paths and reasons only: the offending input is never echoed (it may be a token)."""
    parts = []
    for err in exc.errors()[:5]:
        path = ".".join(str(p) for p in err.get("loc", ())) or "body"
        parts.append(f"{path}: {err.get('msg', 'invalid value')}")
    return "; ".join(parts)


def translate(exc: Exception) -> KendraError:
    """The Kendra error for any exception an operation raised."""
    if isinstance(exc, KendraError):
        return exc
    if isinstance(exc, ValidationError):
        return validation(pydantic_message(exc))
    if isinstance(exc, SearchError):
        return _search_error(exc)
    if isinstance(exc, InvalidTokenError):
        token_rejected(exc)
        return KendraError("AccessDeniedException", f"the user token was refused: {exc.reason}")
    if isinstance(exc, AclError):
        log.error("Kendra API: token or secret configuration unusable: %s", exc.reason)
        return KendraError("InternalServerException", "user tokens are misconfigured on the server")
    if isinstance(exc, EsConnectionError | EsConnectionTimeout):
        log.warning("Kendra API: Elasticsearch unreachable: %s", type(exc).__name__)
        return KendraError("InternalServerException", "the search backend is unreachable; retry")
    if isinstance(exc, EsApiError):
        if exc.status_code in (429, 502, 503, 504):
            return KendraError("ThrottlingException", "the search backend is overloaded; retry")
        log.error(
            "Kendra API: Elasticsearch rejected a request: %s %s", exc.status_code, exc.message
        )
        return KendraError("InternalServerException", "internal error")
    if isinstance(exc, redis.RedisError):
        log.warning("Kendra API: Redis unreachable: %s", type(exc).__name__)
        return KendraError("InternalServerException", "the job queue is unreachable; retry")
    log.exception("Kendra API: unhandled error", exc_info=exc)
    return KendraError("InternalServerException", "internal error")


def _search_error(exc: SearchError) -> KendraError:
    if isinstance(exc, NotFound):
        return not_found(exc.message)
    if isinstance(exc, Conflict):
        return KendraError("ConflictException", exc.message)
    if isinstance(exc, BadRequest):
        return validation(exc.message)
    if exc.code == "backend_unavailable":
        return KendraError("InternalServerException", f"{exc.message}; retry")
    log.error("Kendra API: unmapped search error %s", exc.code)
    return KendraError("InternalServerException", "internal error")
