"""AWS-style errors of the Kendra API: ``{"__type": Code, "message": ...}`` with a status.

Core errors (any ``QuarryError``, Elasticsearch and Redis failures as the core classifies
them) are translated once here, so
every operation fails the way a Kendra client expects and no internal detail (a backend
address, a stack trace) reaches the caller.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError

from acl import AclError, InvalidTokenError
from api.error_codes import ERROR_CODES
from api.metrics import token_rejected
from quarry.errors import QuarryError
from search import es_errors
from sync_engine.backends import REDIS_ERRORS

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
    if isinstance(exc, QuarryError):
        if isinstance(exc, InvalidTokenError):
            token_rejected(exc)
        return _core_error(exc)
    failure = es_errors.classify(exc)
    if failure is not None:
        if failure.kind == "unreachable":
            log.warning("Kendra API: Elasticsearch unreachable: %s", failure.type_name)
            return KendraError(
                "InternalServerException", "the search backend is unreachable; retry"
            )
        if failure.kind == "overloaded":
            return KendraError("ThrottlingException", "the search backend is overloaded; retry")
        log.error(
            "Kendra API: Elasticsearch rejected a request: %s %s", failure.status, failure.message
        )
        return KendraError("InternalServerException", "internal error")
    if isinstance(exc, REDIS_ERRORS):
        log.warning("Kendra API: Redis unreachable: %s", type(exc).__name__)
        return KendraError("InternalServerException", "the job queue is unreachable; retry")
    log.exception("Kendra API: unhandled error", exc_info=exc)
    return KendraError("InternalServerException", "internal error")


def _core_error(exc: QuarryError) -> KendraError:
    """The shared code table picks the AWS type; the message says what a Kendra client can do."""
    mapping = ERROR_CODES.get(exc.code)
    if mapping is None:
        log.error("Kendra API: unmapped error code %s", exc.code)
        return KendraError("InternalServerException", "internal error")
    if isinstance(exc, AclError):
        if mapping.status < 500:
            return KendraError(mapping.kendra_type, f"the user token was refused: {exc.message}")
        log.error("Kendra API: token or secret configuration unusable: %s", exc.message)
        return KendraError(mapping.kendra_type, "user tokens are misconfigured on the server")
    if mapping.status >= 500:
        return KendraError(mapping.kendra_type, f"{exc.message}; retry")
    return KendraError(mapping.kendra_type, exc.message)
