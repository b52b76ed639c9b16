"""``UserContext`` → the principal a search runs as, under the index's user-context policy.

Quarry fails closed where Kendra fails open: no user context is the anonymous searcher (only
documents open to everyone), a token that does not verify is ``AccessDeniedException`` and
never anonymous, and a ``USER_TOKEN`` index refuses a bare ``UserId``. Groups are expanded
through the identity store exactly as for the native API.
"""

from __future__ import annotations

from typing import Any

from acl import MAX_TOKEN_GROUPS, Principal
from api.kendra import shapes
from api.kendra.context import IndexRecord, KendraContext
from api.kendra.errors import validation

_MEMBERS = ("Token", "UserId", "Groups", "DataSourceGroups")


def principal(
    ctx: KendraContext, index: IndexRecord, body: dict[str, Any], warnings: list[str]
) -> Principal:
    context = shapes.obj(body, "UserContext")
    if not context:
        return Principal.anonymous()
    shapes.ignore(context, _MEMBERS, warnings, "UserContext.")
    token = shapes.string(context, "Token", path="UserContext.")
    user = shapes.string(context, "UserId", max_len=1024, path="UserContext.")
    groups = shapes.strings(context, "Groups", "UserContext.") or []
    scoped = shapes.objects(context, "DataSourceGroups", "UserContext.")
    if token is not None and (user is not None or groups or scoped):
        raise validation("UserContext: give either Token or UserId/Groups, not both")
    if len(groups) + len(scoped) > MAX_TOKEN_GROUPS:
        raise validation(f"UserContext: at most {MAX_TOKEN_GROUPS} groups")
    if token is not None:
        resolver = ctx.resolver(index)
        if resolver is None:
            raise validation("UserContext.Token: this index has no UserTokenConfigurations")
        base = resolver.resolve(token)
    else:
        if index.user_context_policy == "USER_TOKEN":
            raise validation(
                "this index's UserContextPolicy is USER_TOKEN: identify the user "
                "with UserContext.Token"
            )
        base = Principal(user=user, groups=frozenset([*groups, *_scoped(ctx, scoped)]))
    expanded = ctx.svc.runtime.identities.groups_of(base.user, sorted(base.groups))
    return Principal(user=base.user, groups=frozenset(expanded))


def _scoped(ctx: KendraContext, scoped: list[dict[str, Any]]) -> list[str]:
    """``DataSourceGroups``, applied only where that is exact.

    Quarry's group names are not scoped to a data source. A group given for data source D is
    therefore applied only if no document of another source grants access to that group;
    otherwise the request is refused rather than widened.
    """
    by_source: dict[str, list[str]] = {}
    for i, entry in enumerate(scoped):
        group = shapes.required(entry, "GroupId", 1024, f"UserContext.DataSourceGroups[{i}].")
        source = shapes.required(entry, "DataSourceId", 100, f"UserContext.DataSourceGroups[{i}].")
        by_source.setdefault(source, []).append(group)
    runtime = ctx.svc.runtime
    if by_source:
        runtime.index.ensure()
    for source, groups in by_source.items():
        elsewhere = runtime.es.count(
            index=ctx.svc.settings.docs_alias,
            query={
                "bool": {
                    "filter": [{"terms": {"acl_allow_groups": groups}}],
                    "must_not": [{"term": {"data_source_id": source}}],
                }
            },
        ).body["count"]
        if elsewhere:
            raise validation(
                f"UserContext.DataSourceGroups: a group given for data source {source!r} also "
                "grants access to documents of other data sources, and Quarry cannot scope a "
                "group to one source; pass it in Groups if it applies everywhere"
            )
    return [g for groups in by_source.values() for g in groups]
