"""``UserContext`` → the principal a search runs as, under the index's user-context policy.

Quarry fails closed where Kendra fails open: no user context is the anonymous searcher (only
documents open to everyone), a token that does not verify is ``AccessDeniedException`` and
never anonymous, and a ``USER_TOKEN`` index refuses a bare ``UserId``. The principal comes
from the same principal service as the native API's, so groups are expanded per data source
exactly as there; ``DataSourceGroups`` count only for their data source.
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
        return ctx.svc.principals.from_token(token, resolver)
    if index.user_context_policy == "USER_TOKEN":
        raise validation(
            "this index's UserContextPolicy is USER_TOKEN: identify the user with UserContext.Token"
        )
    return ctx.svc.principals.for_user(user, groups, _scoped(scoped))


def _scoped(scoped: list[dict[str, Any]]) -> dict[str, list[str]]:
    """``DataSourceGroups``: each group counts only for its data source's documents."""
    by_source: dict[str, list[str]] = {}
    for i, entry in enumerate(scoped):
        group = shapes.required(entry, "GroupId", 1024, f"UserContext.DataSourceGroups[{i}].")
        source = shapes.required(entry, "DataSourceId", 100, f"UserContext.DataSourceGroups[{i}].")
        by_source.setdefault(source, []).append(group)
    return by_source
