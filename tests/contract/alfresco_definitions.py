"""The official Alfresco API definitions (Swagger 2.0) as JSON Schema validators.

Swagger 2.0 schemas are close to JSON Schema draft 4, with differences handled here:
``$ref`` into ``#/definitions`` is inlined (cycles become open schemas), ``x-*``
extensions, ``example``, ``discriminator`` and ``readOnly`` are dropped, ``type: file``
accepts anything, and ``allOf`` is merged into one object schema. Swagger has no
nullable, so a ``null`` where the definition says string fails, as it should.

Strict mode adds ``additionalProperties: false`` to every object schema that lists its
properties: a simulator response may then carry no field the definitions do not know.
Timestamps (``format: date-time``) must use Alfresco's ``2026-03-01T10:15:30.000+0000``.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.shared import require_shared

REPO_ROOT = Path(__file__).resolve().parents[2]
ALFRESCO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
FILES = {
    "core": "alfresco-core.yaml",
    "search": "alfresco-search.yaml",
    "auth": "alfresco-auth.yaml",
    "discovery": "alfresco-discovery.yaml",
}
_DROPPED = {"example", "discriminator", "readOnly", "xml", "externalDocs"}


@cache
def load(api: str) -> dict[str, Any]:
    """One API's definitions; skips the calling test (fails it in CI) when they are absent."""
    folder = require_shared(
        "alfresco-api",
        "Alfresco contract tests need the official Alfresco REST API definitions (Apache-2.0)",
    )
    path = folder / FILES[api]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=loader)
    return document


def _deref(document: dict[str, Any], node: Any, stack: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_deref(document, item, stack) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/definitions/")
        if name in stack:
            return {}
        return _deref(document, document["definitions"][name], (*stack, name))
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-") or key in _DROPPED:
            continue
        if key == "properties" and isinstance(value, dict):
            result[key] = {name: _deref(document, sub, stack) for name, sub in value.items()}
        else:
            result[key] = _deref(document, value, stack)
    if result.get("type") == "file":
        return {}
    return result


def _merge_all_of(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_merge_all_of(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    merged = {
        key: (
            {n: _merge_all_of(s) for n, s in value.items()}
            if key == "properties"
            else _merge_all_of(value)
        )
        for key, value in schema.items()
        if key != "allOf"
    }
    for part in schema.get("allOf", []):
        part = _merge_all_of(part)
        merged.setdefault("type", part.get("type", "object"))
        merged.setdefault("properties", {}).update(part.get("properties", {}))
        required = [*merged.get("required", []), *part.get("required", [])]
        if required:
            merged["required"] = sorted(set(required))
    return merged


def _close_objects(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_close_objects(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {
        key: (
            {n: _close_objects(s) for n, s in value.items()}
            if key == "properties"
            else _close_objects(value)
        )
        for key, value in schema.items()
    }
    if closed.get("properties") and "additionalProperties" not in closed:
        closed["additionalProperties"] = False
    return closed


def to_json_schema(api: str, swagger_schema: dict[str, Any], *, strict: bool = True) -> Any:
    schema = _merge_all_of(_deref(load(api), copy.deepcopy(swagger_schema), ()))
    return _close_objects(schema) if strict else schema


def _alfresco_timestamp(value: object) -> bool:
    return not isinstance(value, str) or bool(ALFRESCO_TIMESTAMP.match(value))


_FORMATS = jsonschema.FormatChecker(formats=())
_FORMATS.checks("date-time")(_alfresco_timestamp)


def operation(api: str, template: str, method: str) -> dict[str, Any]:
    """The definition of an operation; KeyError when the definitions lack it."""
    op: dict[str, Any] = load(api)["paths"][template][method.lower()]
    return op


@cache
def response_schema(api: str, template: str, method: str, status: int) -> Any:
    """The JSON Schema a response with ``status`` must satisfy.

    A status listed with a schema uses it; a listed status without one, or an unlisted
    status, falls back to ``default`` (the Error schema). A status the operation neither
    lists nor covers by ``default`` is a contract violation (AssertionError).
    """
    responses = operation(api, template, method)["responses"]
    declared = responses.get(str(status))
    if isinstance(declared, dict) and "schema" in declared:
        return to_json_schema(api, declared["schema"])
    if declared is None and "default" not in responses:
        raise AssertionError(f"{method} {template} does not declare status {status}")
    fallback = responses.get("default", {})
    return to_json_schema(api, fallback["schema"]) if "schema" in fallback else None


@cache
def _validator(api: str, template: str, method: str, status: int) -> Any:
    schema = response_schema(api, template, method, status)
    return None if schema is None else jsonschema.Draft4Validator(schema, format_checker=_FORMATS)


def validate(api: str, template: str, method: str, status: int, body: Any) -> None:
    """Raise ``jsonschema.ValidationError`` when ``body`` breaks the definition."""
    validator = _validator(api, template, method, status)
    if validator is not None:
        validator.validate(body)
