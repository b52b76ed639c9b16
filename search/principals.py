"""The one principal path: any caller (a user-context token, an administrator's "test as" user
with groups, a Kendra ``UserContext``) becomes a resolved ``Principal`` here, for every face.

Resolution walks the identity store per data source (``acl.identity.resolve``); the result is
cached per process, and every cached entry is checked against the identity store's generation
marker, which each completed identity change bumps. So a member removed by a sync loses access
as soon as that sync has finished, in every API process, not after a time-out.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from acl import Principal, Resolution, TokenResolver, resolve
from search.identity import IdentityStore

SourceScopes = Callable[[], Mapping[str, bool]]
"""Every data source id, with whether its ids are case-insensitive."""

_Key = tuple[str | None, tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]]


class PrincipalService:
    """Turns callers into principals with one cache; shared by REST, Kendra, console and CLI."""

    def __init__(
        self,
        identities: IdentityStore,
        sources: SourceScopes,
        tokens: TokenResolver | None = None,
        ttl_s: float = 30.0,
        max_entries: int = 10_000,
    ) -> None:
        self.identities = identities
        self._sources = sources
        self.tokens = tokens
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[_Key, tuple[float, str, Principal]] = OrderedDict()
        self._scopes: tuple[str, dict[str, bool]] | None = None

    # ----- the faces' entry points
    def from_token(self, token: str, resolver: TokenResolver | None = None) -> Principal:
        """Verify a user-context token (``InvalidTokenError`` when it does not) and resolve it."""
        chosen = resolver or self.tokens
        if chosen is None:
            from acl import InvalidTokenError

            raise InvalidTokenError("no user-context token type is configured")
        base = chosen.resolve(token)
        return self.for_user(base.user, base.groups)

    def for_user(
        self,
        user: str | None,
        groups: Iterable[str] = (),
        source_groups: Mapping[str, Iterable[str]] | None = None,
    ) -> Principal:
        """The principal of ``user`` holding the global ``groups`` (a token's, or given by an
        administrator), plus ``source_groups`` that count only for their data source."""
        if user is None and not groups and not source_groups:
            return Principal.anonymous()
        key: _Key = (
            user,
            tuple(sorted(set(groups))),
            tuple(sorted((s, tuple(sorted(set(g)))) for s, g in (source_groups or {}).items())),
        )
        generation = self.identities.generation()
        now = time.monotonic()
        if self.ttl_s > 0:
            with self._lock:
                hit = self._entries.get(key)
                if hit is not None and hit[0] > now and hit[1] == generation:
                    self._entries.move_to_end(key)
                    return hit[2]
        principal = self._resolve(user, key[1], dict(key[2]), generation).principal()
        if self.ttl_s > 0:
            with self._lock:
                self._entries[key] = (now + self.ttl_s, generation, principal)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return principal

    def resolution(
        self,
        user: str | None,
        groups: Iterable[str] = (),
        source_groups: Mapping[str, Iterable[str]] | None = None,
    ) -> Resolution:
        """The same resolution with the chain behind every group, for explanations (uncached)."""
        return self._resolve(
            user,
            tuple(sorted(set(groups))),
            {s: tuple(g) for s, g in (source_groups or {}).items()},
            self.identities.generation(),
        )

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._scopes = None

    # ----- internals
    def scopes(self, generation: str | None = None) -> dict[str, bool]:
        """The data sources' namespaces, re-read whenever the identity generation moved: every
        registered data source with its case rule, and any other source with identity records
        (compared exactly)."""
        generation = generation or self.identities.generation()
        with self._lock:
            if self._scopes is not None and self._scopes[0] == generation:
                return self._scopes[1]
        scopes = {source: False for source in self.identities.namespaces()}
        scopes.update(self._sources())
        with self._lock:
            self._scopes = (generation, scopes)
        return scopes

    def _resolve(
        self,
        user: str | None,
        groups: tuple[str, ...],
        source_groups: Mapping[str, Iterable[str]],
        generation: str,
    ) -> Resolution:
        scopes = dict(self.scopes(generation))
        for source in source_groups:
            scopes.setdefault(source, False)
        return resolve(self.identities, user, groups, scopes, source_groups)

    def describe(self, principal: Principal) -> dict[str, Any]:
        """A JSON-able view: global groups and each source's own groups."""
        return {
            "user": principal.user,
            "groups": sorted(principal.groups),
            "sources": {
                s: {"groups": sorted(scope.groups), "case_insensitive": scope.case_insensitive}
                for s, scope in sorted(principal.sources.items())
            },
        }
