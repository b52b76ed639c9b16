"""Requests, responses and errors exchanged between the HTTP server and the API handlers.

Errors use Alfresco's shape ``{"error": {errorKey, statusCode, briefSummary, stackTrace,
descriptionURL, logId}}`` whatever the status, as the real server does.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from devtools.alfresco_sim.auth import TicketStore
    from devtools.alfresco_sim.faults import Faults
    from devtools.alfresco_sim.repository import Repository

ERROR_KEYS: Final[dict[int, str]] = {
    400: "framework.exception.InvalidArgument",
    401: "framework.exception.NotAuthenticated",
    403: "framework.exception.PermissionDenied",
    404: "framework.exception.EntityNotFound",
    405: "framework.exception.UnsupportedResourceOperation",
    409: "framework.exception.ConstraintViolated",
    412: "framework.exception.PreconditionFailed",
    416: "framework.exception.RequestedRangeNotSatisfiable",
}
STACK_TRACE: Final = (
    "For security reasons the stack trace is no longer displayed, "
    "but the property is kept for previous versions"
)
_log_ids = itertools.count(5_010_001)


def error_body(status: int, brief: str, key: str | None = None) -> dict[str, Any]:
    log_id = f"{next(_log_ids):08d}"
    return {
        "error": {
            "errorKey": key or ERROR_KEYS.get(status, "framework.exception.ApiDefault"),
            "statusCode": status,
            "briefSummary": f"{log_id} {brief}",
            "stackTrace": STACK_TRACE,
            "descriptionURL": "https://api-explorer.alfresco.com",
            "logId": log_id,
        }
    }


class ApiError(Exception):
    """Raised by handlers; the server turns it into an Alfresco error response."""

    def __init__(self, status: int, brief: str, *, headers: Mapping[str, str] | None = None):
        super().__init__(brief)
        self.status = status
        self.brief = brief
        self.headers = dict(headers or {})


def not_found(entity_id: str) -> ApiError:
    return ApiError(404, f"The entity with id: {entity_id} was not found")


def denied() -> ApiError:
    return ApiError(403, "Permission was denied")


@dataclass
class ApiRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Header names lower-cased; read them with ``header()``."""
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)
    user: str = ""
    ticket: str | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, f"Could not read content from HTTP request body: {exc}") from exc


@dataclass
class JsonResponse:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class BytesResponse:
    """A binary (or empty, for 204/304) response, streamed in chunks by the server."""

    status: int
    data: bytes
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)


Response = JsonResponse | BytesResponse


@dataclass
class Context:
    repository: Repository
    tickets: TicketStore
    faults: Faults
    request: ApiRequest


Handler = Callable[[Context], Response]
