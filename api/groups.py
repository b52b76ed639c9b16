"""A short-lived cache of resolved group memberships, so a search costs no identity lookups.

Resolving a user's groups transitively takes one Elasticsearch search per nesting level; a
searcher typing queries would pay that on every keystroke's suggestion. Entries live for
``QUARRY_IDENTITY_CACHE_S`` seconds (0 turns the cache off), which bounds how long a removed
membership keeps granting access: the same trade Kendra makes with its group cache.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence

from search.identity import IdentityStore


class GroupCache:
    def __init__(self, store: IdentityStore, ttl_s: float, max_entries: int = 10_000) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, tuple[str, ...]], tuple[float, frozenset[str]]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def groups_of(self, user: str, extra_groups: Sequence[str] = ()) -> frozenset[str]:
        """The user's groups plus ``extra_groups`` (a token's), with every enclosing group."""
        key = (user, tuple(sorted(set(extra_groups))))
        if self.ttl_s <= 0:
            return frozenset(self.store.groups_of(user, key[1]))
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] > now:
                self._entries.move_to_end(key)
                return hit[1]
        groups = frozenset(self.store.groups_of(user, key[1]))
        with self._lock:
            self._entries[key] = (now + self.ttl_s, groups)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return groups

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
