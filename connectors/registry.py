"""Finds connector classes through the ``quarry.connectors`` entry-point group.

Entry points let a connector ship in its own distribution without Quarry knowing about it;
the registry only imports the class that is asked for, so a broken or heavy connector does
not slow down or break the others.
"""

from __future__ import annotations

import logging
import os
from importlib.metadata import EntryPoint, entry_points
from typing import Any, cast

from pydantic import BaseModel, ValidationError

from connectors.base import Connector
from connectors.errors import UNKNOWN_CONNECTOR, ConnectorConfigError, ConnectorError

ENTRY_POINT_GROUP = "quarry.connectors"

logger = logging.getLogger(__name__)


EXTRA_ENV = "QUARRY_EXTRA_CONNECTORS"
"""``name=module:Class[,...]``: connectors not installed as a distribution (tests, local ones)."""


def _entry_points() -> dict[str, EntryPoint]:
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    for spec in os.environ.get(EXTRA_ENV, "").split(","):
        name, sep, target = spec.partition("=")
        if sep and name.strip() and target.strip():
            found[name.strip()] = EntryPoint(name.strip(), target.strip(), ENTRY_POINT_GROUP)
    return found


def available_types() -> list[str]:
    """Type names of every installed connector, sorted."""
    return sorted(_entry_points())


def get_connector_class(type_name: str) -> type[Connector]:
    """Import and return the connector class registered as ``type_name``."""
    entry = _entry_points().get(type_name)
    if entry is None:
        known = ", ".join(available_types()) or "none"
        raise ConnectorError(
            UNKNOWN_CONNECTOR, f"no connector of type {type_name!r} is installed (known: {known})"
        )
    try:
        loaded = entry.load()
    except Exception as exc:  # an import error in a plugin must not look like a crash here
        logger.exception("connector entry point failed to load", extra={"type": type_name})
        raise ConnectorError(
            UNKNOWN_CONNECTOR, f"connector {type_name!r} is installed but cannot be loaded: {exc}"
        ) from exc
    config_model = getattr(loaded, "config_model", None)
    if not (
        isinstance(loaded, type)
        and isinstance(config_model, type)
        and issubclass(config_model, BaseModel)
        and callable(getattr(loaded, "crawl", None))
        and callable(getattr(loaded, "check", None))
    ):
        raise ConnectorError(
            UNKNOWN_CONNECTOR, f"entry point {type_name!r} does not name a connector class"
        )
    return cast(type[Connector], loaded)


def _describe(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{e['loc'] or '(config)'}: {e['msg']}" for e in errors)


def build_connector(type_name: str, config_dict: dict[str, Any], data_source_id: str) -> Connector:
    """Validate ``config_dict`` with the class's config model and construct the connector.

    Raises ``ConnectorConfigError`` whose ``errors`` carry dotted field paths (``site_ids.0``)
    and pydantic's messages, without the rejected values (they may be sensitive).
    """
    cls = get_connector_class(type_name)
    try:
        config = cls.config_model.model_validate(config_dict)
    except ValidationError as exc:
        errors = [
            {
                "loc": ".".join(str(part) for part in err["loc"]),
                "msg": err["msg"],
                "type": err["type"],
            }
            for err in exc.errors(include_url=False, include_input=False)
        ]
        raise ConnectorConfigError(
            f"invalid {type_name} config: {_describe(errors)}", errors
        ) from None
    factory = cast(Any, cls)
    return cast(Connector, factory(config, data_source_id))


def case_insensitive_ids(type_name: str, config: dict[str, Any]) -> bool:
    """Whether a source of this type and config compares user and group ids without case.

    A connector says so with a ``case_insensitive_ids`` config field; a config that does not
    validate counts as case-sensitive, which can only narrow what its ACLs grant.
    """
    try:
        model = get_connector_class(type_name).config_model.model_validate(config)
    except (ConnectorError, ValidationError):
        return False
    return bool(getattr(model, "case_insensitive_ids", False))
