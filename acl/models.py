"""Access-control lists and the principals that query them.

Principals are stored in the index as plain keywords; the semantics are defined once
here (``AccessControlList.permits``) and mirrored by the Elasticsearch filter in
``search.filters.acl_filter``. Deny wins over allow, and an empty list grants nothing.

A document's ACL is judged in the namespace of the data source that produced it: groups
crawled from source X count only for X's documents, while the principal's global groups
(the identity provider's token groups, and mappings an administrator made for no source in
particular) count everywhere. Sources whose ids are case-insensitive (Alfresco) compare user
and group ids without regard to case.
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

    def permits(self, principal: Principal, data_source_id: str | None = None) -> bool:
        """Reference semantics of the query-time filter, for a document of ``data_source_id``."""
        fold = principal.case_insensitive_for(data_source_id)
        key = str.lower if fold else str
        groups = {key(g) for g in principal.groups_for(data_source_id)}
        user = None if principal.user is None else key(principal.user)
        if user is not None and user in {key(u) for u in self.deny_users}:
            return False
        if groups & {key(g) for g in self.deny_groups}:
            return False
        if user is not None and user in {key(u) for u in self.allow_users}:
            return True
        return bool(groups & {key(g) for g in self.allow_groups})

    @classmethod
    def public(cls) -> AccessControlList:
        return cls(allow_groups=[EVERYONE])


def _clean_group_set(value: object) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | set | frozenset | tuple):
        raise TypeError("groups must be a list of group ids")
    return frozenset(str(g).strip() for g in value if str(g).strip())


class SourceScope(BaseModel):
    """What a principal holds in one data source's namespace, beyond its global groups."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    groups: frozenset[str] = frozenset()
    """Groups this source's identity records (and mappings scoped to it) give the user."""
    case_insensitive: bool = False
    """True when the source compares user and group ids without regard to case."""

    @field_validator("groups", mode="before")
    @classmethod
    def _clean(cls, value: object) -> frozenset[str]:
        return _clean_group_set(value)


class Principal(BaseModel):
    """A resolved searcher: an optional user id, global groups and per-source groups.

    ``user=None`` is the anonymous searcher, who sees only EVERYONE documents. ``groups``
    count for documents of every source; ``sources[X].groups`` only for documents of X. A
    source missing from ``sources`` gives nothing beyond the global groups, compared exactly.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    user: str | None = None
    groups: frozenset[str] = frozenset()
    sources: dict[str, SourceScope] = Field(default_factory=dict)

    def groups_for(self, data_source_id: str | None) -> frozenset[str]:
        """Every group that counts for a document of ``data_source_id``, EVERYONE included."""
        scope = self.sources.get(data_source_id) if data_source_id is not None else None
        extra = scope.groups if scope is not None else frozenset()
        return self.groups | extra | {EVERYONE}

    def case_insensitive_for(self, data_source_id: str | None) -> bool:
        scope = self.sources.get(data_source_id) if data_source_id is not None else None
        return scope is not None and scope.case_insensitive

    def group_count(self) -> int:
        """How many distinct groups the principal carries, over every namespace."""
        every = set(self.groups)
        for scope in self.sources.values():
            every |= scope.groups
        return len(every)

    def __hash__(self) -> int:
        return hash((self.user, self.groups, tuple(sorted(self.sources.items()))))

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
        return _clean_group_set(value)

    @property
    def is_anonymous(self) -> bool:
        return self.user is None

    @classmethod
    def anonymous(cls) -> Principal:
        return cls()
