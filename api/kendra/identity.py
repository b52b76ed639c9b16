"""PutPrincipalMapping, DescribePrincipalMapping, DeletePrincipalMapping on the identity store.

The memberships go to the same store connectors fill, in the namespace of the mapping's
``DataSourceId`` (counting only for that source's documents) or the global one without it. Kendra applies mappings
asynchronously and orders them by ``OrderingId``; Quarry applies them at once, and a request
whose ``OrderingId`` is lower than the last applied one is ignored, as Kendra would.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api.kendra import shapes
from api.kendra.context import KendraContext
from api.kendra.errors import not_found, validation
from connectors.models import GroupMembership
from search.identity import GLOBAL_SOURCE

MAPPING = "mapping"
MAX_MEMBERS = 1000
_PUT = ("IndexId", "DataSourceId", "GroupId", "GroupMembers", "OrderingId", "RoleArn")


def _scope(ctx: KendraContext, body: dict[str, Any]) -> tuple[str, str]:
    ctx.index(body.get("IndexId"))
    group = shapes.required(body, "GroupId", 1024)
    source = shapes.string(body, "DataSourceId", max_len=100)
    if source is not None:
        ctx.svc.datasources.get(source)  # ResourceNotFoundException for an unknown source
    return source or GLOBAL_SOURCE, group


def _ordering(body: dict[str, Any]) -> int | None:
    value = body.get("OrderingId")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise validation("OrderingId must be a non-negative integer")
    return value


def _stale(ctx: KendraContext, key: str, ordering: int | None) -> bool:
    previous = ctx.records.get(MAPPING, key)
    last = None if previous is None else previous.get("ordering_id")
    return ordering is not None and last is not None and ordering < last


def put_principal_mapping(
    ctx: KendraContext, body: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    source, group = _scope(ctx, body)
    members = shapes.obj(body, "GroupMembers")
    if members is None:
        raise validation("GroupMembers is required")
    if members.get("S3PathforGroupMembers") is not None:
        raise validation(
            "GroupMembers.S3PathforGroupMembers: Quarry reads no S3; list the "
            "members in MemberGroups and MemberUsers"
        )
    users = [
        shapes.required(u, "UserId", 1024, f"GroupMembers.MemberUsers[{i}].")
        for i, u in enumerate(shapes.objects(members, "MemberUsers", "GroupMembers."))
    ]
    groups = []
    for i, g in enumerate(shapes.objects(members, "MemberGroups", "GroupMembers.")):
        groups.append(shapes.required(g, "GroupId", 1024, f"GroupMembers.MemberGroups[{i}]."))
        if g.get("DataSourceId"):
            warnings.append(
                f"GroupMembers.MemberGroups[{i}].DataSourceId: the member group is read "
                "in the mapping's own namespace (its DataSourceId, or global without one)"
            )
    if len(users) + len(groups) > MAX_MEMBERS:
        raise validation(f"GroupMembers: at most {MAX_MEMBERS} members inline")
    shapes.ignore(body, _PUT, warnings)
    ordering = _ordering(body)
    key = f"{source}\x1f{group}"
    now = datetime.now(UTC).isoformat()
    if _stale(ctx, key, ordering):
        warnings.append("OrderingId is lower than the last applied one: the request was ignored")
        return {}
    ctx.svc.runtime.identities.put_memberships(
        source, [GroupMembership(group=group, users=users, groups=groups)]
    )
    ctx.records.put(MAPPING, key, {"ordering_id": ordering, "received_at": now, "created_at": now})
    return {}


def describe_principal_mapping(
    ctx: KendraContext, body: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    source, group = _scope(ctx, body)
    if ctx.svc.runtime.identities.get_membership(group, source) is None:
        raise not_found(f"no principal mapping for group {group!r}")
    record = ctx.records.get(MAPPING, f"{source}\x1f{group}") or {}
    summary: dict[str, Any] = {"Status": "SUCCEEDED"}
    if record.get("received_at"):
        received = datetime.fromisoformat(record["received_at"])
        summary.update({"ReceivedAt": received, "LastUpdatedAt": received})
    if record.get("ordering_id") is not None:
        summary["OrderingId"] = record["ordering_id"]
    out: dict[str, Any] = {
        "IndexId": body["IndexId"],
        "GroupId": group,
        "GroupOrderingIdSummaries": [summary],
    }
    if source != GLOBAL_SOURCE:
        out["DataSourceId"] = source
    return out


def delete_principal_mapping(
    ctx: KendraContext, body: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    source, group = _scope(ctx, body)
    shapes.ignore(body, ("IndexId", "DataSourceId", "GroupId", "OrderingId"), warnings)
    key = f"{source}\x1f{group}"
    if _stale(ctx, key, _ordering(body)):
        warnings.append("OrderingId is lower than the last applied one: the request was ignored")
        return {}
    if not ctx.svc.runtime.identities.delete_membership(group, source):
        raise not_found(f"no principal mapping for group {group!r}")
    ctx.records.delete(MAPPING, key)
    return {}
