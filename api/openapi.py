"""The OpenAPI document as the API behaves: every error in one shape, optional keys optional.

FastAPI's generated document declares its own 422 body (``HTTPValidationError``), omits the
statuses the core's errors map to, and marks a route with an optional bearer key as needing
one. This fixes those once, after generation, so the document (and clients generated from it,
and schemathesis' conformance checks) match what the routes answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

ERROR_REF = "#/components/schemas/ErrorBody"

_DESCRIPTIONS = {
    "400": "The request is well-formed but asks for something invalid (a filter value, a page).",
    "401": "The key or the user-context token is missing, invalid or expired.",
    "404": "No such resource.",
    "409": "The resource's state does not allow it (a name taken, a sync running).",
    "413": "The request body exceeds QUARRY_MAX_REQUEST_BYTES.",
    "422": "The body, a parameter or a path id is invalid; `fields` names each one.",
    "503": "A backend (Elasticsearch, Redis) is unreachable or overloaded, or admin is disabled.",
}


class FieldError(BaseModel):
    path: str = Field(description="The field, e.g. `facets[0].attribute`, or `body`.")
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable: validation_error, bad_request, not_found, ...")
    message: str
    fields: list[FieldError] | None = Field(
        default=None, description="For validation errors: each invalid field."
    )


class ErrorBody(BaseModel):
    """Every error the REST API answers."""

    error: ErrorDetail


def _statuses(path: str, method: str, op: dict[str, Any]) -> set[str]:
    """The error statuses an operation can answer with (besides 500, which is a defect)."""
    if not path.startswith("/v1/"):
        return set()
    statuses = {"400", "422", "503"}
    if "requestBody" in op:
        statuses.add("413")
    if op.get("security"):
        statuses.add("401")
    if "admin" in op.get("tags", []):
        statuses |= {"404", "409"}
    if path == "/v1/feedback":
        statuses.add("404")
    return statuses


def describe(app: FastAPI) -> dict[str, Any]:
    """Generate the document and correct it (see the module docstring)."""
    spec = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for model in (FieldError, ErrorDetail, ErrorBody):
        schemas[model.__name__] = model.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        schemas[model.__name__].pop("$defs", None)
    error_content = {"application/json": {"schema": {"$ref": ERROR_REF}}}
    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            responses = op.setdefault("responses", {})
            for status in _statuses(path, method, op):
                responses.setdefault(status, {"description": _DESCRIPTIONS[status]})
            for status, response in responses.items():
                if status[0] in "45" and path != "/readyz":
                    response["content"] = error_content
            if "search" in op.get("tags", []) and op.get("security"):
                # The bearer key is optional on searches (it unlocks test-as-user and modes).
                op["security"] = [{}, *op["security"]]
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return spec


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
