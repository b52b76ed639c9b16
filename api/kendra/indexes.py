"""CreateIndex, DescribeIndex, ListIndices, DeleteIndex: records over the one document index.

A Kendra index costs nothing here: it is a record naming a user-context policy and token
configuration, and every index searches all of Quarry's documents (ACL-filtered as always).
Deleting one removes the record only; documents and data sources stay.
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
            "DocumentMetadataConfigurations": _metadata(ctx),
        }
    )
    return {k: v for k, v in out.items() if v is not None}


def _metadata(ctx: KendraContext) -> list[dict[str, Any]]:
    """The reserved attributes and the custom ones documents carry, with their types."""
    names = [n for n in RESERVED_ATTRIBUTES if n not in ("_document_id",)]
    names += sorted(k for k in ctx.types.known() if len(k) <= 30)
    search = {"Facetable": True, "Searchable": False, "Displayable": True, "Sortable": True}
    return [{"Name": n, "Type": VALUE_TYPES[ctx.types.kind(n)], "Search": search} for n in names]


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
    warnings.append(
        "only the Kendra index record was deleted; Quarry's documents and data "
        "sources are shared by every index and stay"
    )
    return {}
