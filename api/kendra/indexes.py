"""CreateIndex, DescribeIndex, UpdateIndex, ListIndices, DeleteIndex: records over the one
document index.

A Kendra index costs nothing here: it is a record naming a user-context policy and token
configuration, and every index searches all of Quarry's documents (ACL-filtered as always).
Its relevance tuning (UpdateIndex's metadata configuration) is kept per index id by the core
and shapes that index's queries. Deleting one removes the record and its tuning; documents and
data sources stay.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from api.kendra import shapes
from api.kendra.attributes import VALUE_TYPES
from api.kendra.context import INDEX, IndexRecord, KendraContext
from api.kendra.errors import validation
from api.kendra.relevance import from_relevance, updates
from api.kendra.tokens import token_config
from search.mapping import RESERVED_ATTRIBUTES

NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,999}$")
POLICIES = ("ATTRIBUTE_FILTER", "USER_TOKEN")
EDITIONS = ("DEVELOPER_EDITION", "ENTERPRISE_EDITION", "GEN_AI_ENTERPRISE_EDITION")
_CREATE = (
    "Name",
    "Edition",
    "RoleArn",
    "Description",
    "ClientToken",
    "Tags",
    "UserTokenConfigurations",
    "UserContextPolicy",
)


def tags_of(body: dict[str, Any], warnings: list[str]) -> dict[str, str]:
    """``Tags`` as a dict; Quarry reads only ``quarry:`` tags and warns about the others."""
    tags: dict[str, str] = {}
    for i, tag in enumerate(shapes.objects(body, "Tags")):
        key, value = tag.get("Key"), tag.get("Value", "")
        if not isinstance(key, str) or not isinstance(value, str):
            raise validation(f"Tags[{i}] needs a string Key and Value")
        tags[key] = value
    others = sorted(k for k in tags if not k.startswith("quarry:"))
    if others:
        warnings.append(f"Tags {others} are not stored by Quarry and were ignored")
    return tags


def create_index(ctx: KendraContext, body: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    name = shapes.required(body, "Name", 1000)
    if not NAME.match(name):
        raise validation(
            "Name must start with a letter or digit and hold only letters, digits, '_' and '-'"
        )
    client_token = shapes.string(body, "ClientToken", max_len=100)
    if client_token:
        for found in ctx.records.find(INDEX, "client_token", client_token):
            return {"Id": found["id"]}  # a retried create: the same index, as Kendra does
    edition = shapes.string(body, "Edition") or "ENTERPRISE_EDITION"
    if edition not in EDITIONS:
        raise validation(f"Edition must be one of {list(EDITIONS)}")
    policy = shapes.string(body, "UserContextPolicy") or "ATTRIBUTE_FILTER"
    if policy not in POLICIES:
        raise validation(f"UserContextPolicy must be one of {list(POLICIES)}")
    shapes.ignore(body, _CREATE, warnings, silent=("UserGroupResolutionConfiguration",))
    if body.get("UserGroupResolutionConfiguration") is not None:
        warnings.append(
            "UserGroupResolutionConfiguration was ignored: Quarry always expands groups from "
            "its identity store (PutPrincipalMapping and connector groups)"
        )
    configs = shapes.objects(body, "UserTokenConfigurations")
    tokens = token_config(
        configs, ctx.svc.settings.json_tokens_trusted, tags_of(body, warnings), warnings
    )
    if policy == "USER_TOKEN" and tokens is None:
        raise validation("UserContextPolicy USER_TOKEN needs UserTokenConfigurations")
    now = datetime.now(UTC)
    record = IndexRecord(
        id=str(uuid.uuid4()),
        name=name,
        description=shapes.string(body, "Description") or "",
        edition=edition,
        role_arn=shapes.string(body, "RoleArn") or "",
        created_at=now,
        updated_at=now,
        user_context_policy=policy,  # type: ignore[arg-type]
        user_token_configurations=configs,
        token_config=None if tokens is None else tokens.model_dump(mode="json", by_alias=True),
        client_token=client_token,
    )
    ctx.records.create(INDEX, record.id, record.model_dump(mode="json"))
    return {"Id": record.id}


def describe_index(ctx: KendraContext, body: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    record = ctx.index(body.get("Id"))
    stats = ctx.svc.runtime.index.stats()
    out = _summary(record)
    out.update(
        {
            "RoleArn": record.role_arn or None,
            "Description": record.description,
            "UserContextPolicy": record.user_context_policy,
            "UserTokenConfigurations": record.user_token_configurations,
            "IndexStatistics": {
                "FaqStatistics": {"IndexedQuestionAnswersCount": 0},
                "TextDocumentStatistics": {
                    "IndexedTextDocumentsCount": int(stats.get("documents", 0)),
                    "IndexedTextBytes": int(stats.get("size_bytes", 0)),
                },
            },
            "DocumentMetadataConfigurations": _metadata(ctx, record.id),
        }
    )
    return {k: v for k, v in out.items() if v is not None}


def _metadata(ctx: KendraContext, index_id: str) -> list[dict[str, Any]]:
    """The reserved attributes and the custom ones documents carry, with their types and the
    index's relevance tuning (a tuned attribute no document carries yet is listed too)."""
    tuning = ctx.svc.relevance.get(index_id).by_name()
    names = [n for n in RESERVED_ATTRIBUTES if n not in ("_document_id",)]
    names += sorted(k for k in ctx.types.known() if len(k) <= 30)
    names += sorted(n for n in tuning if n not in names)
    search = {"Facetable": True, "Searchable": False, "Displayable": True, "Sortable": True}
    out = []
    for n in names:
        item: dict[str, Any] = {"Name": n, "Type": VALUE_TYPES[ctx.types.kind(n)], "Search": search}
        if n in tuning:
            item["Relevance"] = from_relevance(tuning[n])
        out.append(item)
    return out


_UPDATE = ("Id", "Name", "Description", "RoleArn", "DocumentMetadataConfigurationUpdates")


def update_index(ctx: KendraContext, body: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """Name, description, role and relevance tuning; tuning applies to the next query.

    Each listed attribute's tuning replaces the one it had (without ``Relevance``: cleared);
    attributes not listed keep theirs.
    """
    record = ctx.index(body.get("Id"))
    shapes.ignore(body, _UPDATE, warnings)
    changes = updates(body, ctx.svc.runtime.engine.field_types(), warnings)
    name = shapes.string(body, "Name", max_len=1000)
    if name is not None and not NAME.match(name):
        raise validation(
            "Name must start with a letter or digit and hold only letters, digits, '_' and '-'"
        )
    fields: dict[str, Any] = {"updated_at": datetime.now(UTC)}
    if name is not None:
        fields["name"] = name
    description = shapes.string(body, "Description", max_len=1000)
    if description is not None:
        fields["description"] = description
    role = shapes.string(body, "RoleArn", max_len=1284)
    if role is not None:
        fields["role_arn"] = role
    if changes:
        ctx.svc.relevance.update(record.id, changes)
    updated = record.model_copy(update=fields)
    ctx.records.put(INDEX, record.id, updated.model_dump(mode="json"))
    return {}


def _summary(record: IndexRecord) -> dict[str, Any]:
    return {
        "Name": record.name,
        "Id": record.id,
        "Edition": record.edition,
        "CreatedAt": record.created_at,
        "UpdatedAt": record.updated_at,
        "Status": "ACTIVE",
    }


def list_indices(ctx: KendraContext, body: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    size = shapes.integer(body, "MaxResults", 100, 1, 100)
    start = shapes.page_token(shapes.string(body, "NextToken", max_len=800))
    docs, total = ctx.records.page(INDEX, start, size)
    out: dict[str, Any] = {
        "IndexConfigurationSummaryItems": [_summary(IndexRecord.model_validate(d)) for d in docs]
    }
    if start + len(docs) < total:
        out["NextToken"] = shapes.next_token(start + len(docs))
    return out


def delete_index(ctx: KendraContext, body: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    record = ctx.index(body.get("Id"))
    ctx.records.delete(INDEX, record.id)
    ctx.svc.relevance.delete(record.id)
    warnings.append(
        "only the Kendra index record was deleted; Quarry's documents and data "
        "sources are shared by every index and stay"
    )
    return {}
