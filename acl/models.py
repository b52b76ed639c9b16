"""Access-control lists and the principals that query them.

Principals are stored in the index as plain keywords; the semantics are defined once
here (``AccessControlList.permits``) and mirrored by the Elasticsearch filter in
``search.query.acl_filter``. Deny wins over allow, and an empty list grants nothing.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

EVERYONE = "GROUP_EVERYONE"
"""The group every authenticated and anonymous user belongs to (Alfresco's name for it)."""


def _normalise(values: list[str]) -> list[str]:
    cleaned = {v.strip() for v in values if v and v.strip()}
    return sorted(cleaned)


class AccessControlList(BaseModel):
    """Who may read a document. Built by connectors, enforced at query time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    allow_users: list[str] = Field(default_factory=list)
    allow_groups: list[str] = Field(default_factory=list)
    deny_users: list[str] = Field(default_factory=list)
    deny_groups: list[str] = Field(default_factory=list)

    @field_validator("allow_users", "allow_groups", "deny_users", "deny_groups")
    @classmethod
    def _clean(cls, values: list[str]) -> list[str]:
        return _normalise(values)

    @property
    def is_empty(self) -> bool:
        """An empty list grants nobody anything (fail closed)."""
        return not (self.allow_users or self.allow_groups)

    def permits(self, principal: Principal) -> bool:
        """Reference semantics of the query-time filter."""
        groups = set(principal.groups) | {EVERYONE}
        if principal.user is not None and principal.user in self.deny_users:
            return False
        if groups & set(self.deny_groups):
            return False
        if principal.user is not None and principal.user in self.allow_users:
            return True
        return bool(groups & set(self.allow_groups))

    @classmethod
    def public(cls) -> AccessControlList:
        return cls(allow_groups=[EVERYONE])


class Principal(BaseModel):
    """A resolved searcher: an optional user id and the groups they belong to.

    ``user=None`` is the anonymous searcher, who sees only EVERYONE documents.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    user: str | None = None
    groups: frozenset[str] = frozenset()

    @field_validator("user")
    @classmethod
    def _strip_user(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        return value or None

    @field_validator("groups", mode="before")
    @classmethod
    def _clean_groups(cls, value: object) -> frozenset[str]:
        if value is None:
            return frozenset()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | set | frozenset | tuple):
            raise TypeError("groups must be a list of group ids")
        return frozenset(str(g).strip() for g in value if str(g).strip())

    @property
    def is_anonymous(self) -> bool:
        return self.user is None

    @classmethod
    def anonymous(cls) -> Principal:
        return cls()
