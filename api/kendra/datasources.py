"""Create, describe, list, update and delete data sources through Quarry's DataSourceService.

Quarry keeps one catalogue of data sources; every Kendra index sees all of it (they share
one document index). A data source's Kendra ``Id`` is its Quarry name. Only ``ALFRESCO``
sources are created here; others made with the native API are listed as ``CUSTOM``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from api.kendra import alfresco, cron, shapes
from api.kendra.context import KendraContext
from api.kendra.errors import KendraError, validation
from search.errors import Conflict
from sync_engine.datasources import InvalidConfig
from sync_engine.models import DataSource, DataSourceSpec

DATA_SOURCE = "datasource"
ALFRESCO = "alfresco"
_COMMON = ("IndexId", "Description", "Schedule", "Configuration", "LanguageCode")


def _common_warnings(body: dict[str, Any], warnings: list[str], extra: tuple[str, ...]) -> None:
    shapes.ignore(body, (*_COMMON, *extra), warnings)
    language = shapes.string(body, "LanguageCode", max_len=10)
    if language and language.split("-")[0].lower() != "en":
        warnings.append("LanguageCode: Quarry analyses text as English; ignored")


def _alfresco_config(body: dict[str, Any], warnings: list[str]) -> dict[str, Any] | None:
    configuration = shapes.obj(body, "Configuration")
    if configuration is None:
        return None
    others = sorted(k for k in configuration if k != "AlfrescoConfiguration")
    if others:
        raise validation(f"Configuration: only AlfrescoConfiguration is supported, not {others}")
    settings = shapes.obj(configuration, "AlfrescoConfiguration", "Configuration.")
    if settings is None:
        raise validation("Configuration.AlfrescoConfiguration is required")
    return alfresco.to_config(settings, warnings)


def _spec(**values: Any) -> DataSourceSpec:
    """The spec, with pydantic's complaints in Kendra's member names."""
    try:
        return DataSourceSpec(**values)
    except ValidationError as exc:
        names = {"name": "Name", "schedule": "Schedule", "description": "Description"}
        first = exc.errors()[0]
        where = names.get(str(first["loc"][0]), str(first["loc"][0])) if first["loc"] else "body"
        raise validation(f"{where}: {first['msg']}") from None


def _save(ctx: KendraContext, spec: DataSourceSpec, update: bool) -> DataSource:
    try:
        if update:
            return ctx.svc.datasources.update(spec.name, spec)
        return ctx.svc.datasources.create(spec)
    except InvalidConfig as exc:
        details = "; ".join(
            f"{alfresco.kendra_path(e.get('loc', ''))}: {e.get('msg')}" for e in exc.errors[:5]
        )
        raise validation(details or exc.message) from None


def create_data_source(
    ctx: KendraContext, body: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    index = ctx.index(body.get("IndexId"))
    name = shapes.required(body, "Name", 1000)
    kind = shapes.required(body, "Type", 32)
    client_token = shapes.string(body, "ClientToken", max_len=100)
    if client_token:
        for found in ctx.records.find(DATA_SOURCE, "client_token", client_token):
            return {"Id": found["id"]}  # a retried create
    if kind != "ALFRESCO":
        raise validation(
            f"Type {kind}: Quarry's Kendra API creates ALFRESCO data sources; use "
            "Quarry's own API for other connectors"
        )
    _common_warnings(body, warnings, ("Name", "Type", "ClientToken"))
    config = _alfresco_config(body, warnings)
    if config is None:
        raise validation("Configuration.AlfrescoConfiguration is required")
    spec = _spec(
        name=name,
        type=ALFRESCO,
        description=shapes.string(body, "Description") or "",
        config=config,
        schedule=cron.to_quarry(shapes.string(body, "Schedule")),
    )
    try:
        created = _save(ctx, spec, update=False)
    except Conflict:
        raise KendraError("ConflictException", f"a data source named {name!r} exists") from None
    ctx.records.put(
        DATA_SOURCE,
        created.id,
        {
            "client_token": client_token,
            "index_id": index.id,
            "created_at": datetime.now(UTC).isoformat(),
        },
    )
    return {"Id": created.id}


def _kendra_type(source: DataSource) -> str:
    return "ALFRESCO" if source.type == ALFRESCO else "CUSTOM"


def _summary(source: DataSource) -> dict[str, Any]:
    return {
        "Name": source.name,
        "Id": source.id,
        "Type": _kendra_type(source),
        "CreatedAt": source.created_at,
        "UpdatedAt": source.updated_at,
        "Status": "ACTIVE",
        "LanguageCode": "en",
    }


def describe_data_source(
    ctx: KendraContext, body: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    index = ctx.index(body.get("IndexId"))
    source = ctx.svc.datasources.get(shapes.required(body, "Id", 100))
    out = _summary(source)
    out.update({"IndexId": index.id, "Description": source.description})
    if source.type == ALFRESCO:
        out["Configuration"] = {"AlfrescoConfiguration": alfresco.from_config(source.config)}
    schedule = cron.to_kendra(source.schedule)
    if schedule:
        out["Schedule"] = schedule
    return out


def list_data_sources(
    ctx: KendraContext, body: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    ctx.index(body.get("IndexId"))
    size = shapes.integer(body, "MaxResults", 100, 1, 100)
    start = shapes.page_token(shapes.string(body, "NextToken", max_len=800))
    sources = sorted(ctx.svc.datasources.list(), key=lambda s: (s.created_at, s.id))
    page = sources[start : start + size]
    out: dict[str, Any] = {"SummaryItems": [_summary(s) for s in page]}
    if start + size < len(sources):
        out["NextToken"] = shapes.next_token(start + size)
    return out


def update_data_source(
    ctx: KendraContext, body: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    ctx.index(body.get("IndexId"))
    source_id = shapes.required(body, "Id", 100)
    name = shapes.string(body, "Name", max_len=1000)
    if name is not None and name != source_id:
        raise validation("Name: a Quarry data source cannot be renamed (its Id is its name)")
    _common_warnings(body, warnings, ("Id", "Name"))
    source = ctx.svc.datasources.get(source_id)
    config = dict(source.config)
    translated = _alfresco_config(body, warnings)
    if translated is not None:
        if source.type != ALFRESCO:
            raise validation("Configuration: this data source is not an Alfresco one")
        config = {k: v for k, v in config.items() if k not in alfresco.CONTROLLED} | translated
    schedule = source.schedule
    if "Schedule" in body:
        schedule = cron.to_quarry(shapes.string(body, "Schedule"))
    description = shapes.string(body, "Description")
    spec = _spec(
        name=source.id,
        type=source.type,
        config=config,
        schedule=schedule,
        description=source.description if description is None else description,
        enabled=source.enabled,
    )
    _save(ctx, spec, update=True)
    return {}


def delete_data_source(
    ctx: KendraContext, body: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    ctx.index(body.get("IndexId"))
    source_id = shapes.required(body, "Id", 100)
    ctx.svc.datasources.delete(source_id)
    ctx.records.delete(DATA_SOURCE, source_id)
    return {}
