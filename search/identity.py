"""The identity store: group memberships from connectors and principal mappings, in Elasticsearch.

Memberships are stored as direct edges (group → users, group → sub-groups), one record per
(data source, group), and resolved transitively at query time, so a change to one group
reaches every user below it without rewriting anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from connectors.models import GroupMembership
from search.system_index import ensure_index

MAX_DEPTH = 32
MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "data_source_id": {"type": "keyword"},
        "group": {"type": "keyword"},
        "users": {"type": "keyword"},
        "groups": {"type": "keyword"},
        "sync_job": {"type": "keyword"},
    },
}
GLOBAL_SOURCE = "_global"
"""Memberships put through the API (Kendra's PutPrincipalMapping without a data source)."""


class IdentityStore:
    def __init__(
        self, es: Elasticsearch, index: str, index_settings: dict[str, Any] | None = None
    ) -> None:
        self.es = es
        self.index = index
        self.index_settings = index_settings
        self._ensured = False

    def ensure(self) -> None:
        if self._ensured:
            return
        ensure_index(self.es, self.index, MAPPINGS, self.index_settings)
        self._ensured = True

    @staticmethod
    def _id(data_source_id: str, group: str) -> str:
        return f"{data_source_id}\x1f{group}"

    def put_memberships(
        self,
        data_source_id: str,
        memberships: Sequence[GroupMembership],
        job_id: str | None = None,
    ) -> None:
        self.ensure()
        ops: list[dict[str, Any]] = []
        for m in memberships:
            ops.append({"index": {"_index": self.index, "_id": self._id(data_source_id, m.group)}})
            ops.append(
                {
                    "data_source_id": data_source_id,
                    "group": m.group,
                    "users": sorted(set(m.users)),
                    "groups": sorted(set(m.groups)),
                    "sync_job": job_id,
                }
            )
        if ops:
            response = self.es.bulk(operations=ops, refresh=True)
            if response.body.get("errors"):
                raise RuntimeError("identity store rejected some group memberships")

    def get_membership(
        self, group: str, data_source_id: str = GLOBAL_SOURCE
    ) -> GroupMembership | None:
        self.ensure()
        try:
            doc = self.es.get(index=self.index, id=self._id(data_source_id, group)).body["_source"]
        except NotFoundError:
            return None
        return GroupMembership(group=doc["group"], users=doc["users"], groups=doc["groups"])

    def delete_membership(self, group: str, data_source_id: str = GLOBAL_SOURCE) -> bool:
        self.ensure()
        try:
            self.es.delete(index=self.index, id=self._id(data_source_id, group), refresh=True)
        except NotFoundError:
            return False
        return True

    def delete_stale(self, data_source_id: str, job_id: str, keep: Sequence[str] = ()) -> int:
        """After a complete full sync, forget the groups it no longer saw.

        A group deleted at the source must stop granting its former members anything. Records
        put through the API (no sync job) are the administrator's and are kept.
        """
        from search.sync.purge import delete_matching

        self.ensure()
        query = {
            "bool": {
                "filter": [
                    {"term": {"data_source_id": data_source_id}},
                    {"exists": {"field": "sync_job"}},
                ],
                "must_not": [
                    {"term": {"sync_job": job_id}},
                    *([{"terms": {"group": list(keep)[:10_000]}}] if keep else []),
                ],
            }
        }
        deleted, _ = delete_matching(self.es, self.index, query)
        return deleted

    def delete_source(self, data_source_id: str) -> None:
        from search.sync.purge import delete_matching  # no _delete_by_query on minimal nodes

        self.ensure()
        delete_matching(self.es, self.index, {"term": {"data_source_id": data_source_id}})

    def _parents(self, field: str, values: Sequence[str]) -> dict[str, str]:
        """Groups having any of ``values`` in ``field``: parent group → the child that led there."""
        found: dict[str, str] = {}
        values = list(values)
        for start in range(0, len(values), 1000):
            chunk = values[start : start + 1000]
            response = self.es.search(
                index=self.index,
                size=10_000,
                query={"terms": {field: chunk}},
                source={"includes": ["group", field]},
            )
            wanted = set(chunk)
            for hit in response.body["hits"]["hits"]:
                src = hit["_source"]
                via = next((v for v in src.get(field, []) if v in wanted), chunk[0])
                found.setdefault(src["group"], via)
        return found

    def membership_paths(
        self, user: str | None, extra_groups: Sequence[str] = ()
    ) -> dict[str, list[str]]:
        """Every group the user belongs to, with the chain that leads there (direct first)."""
        self.ensure()
        paths: dict[str, list[str]] = {g: [g] for g in extra_groups}
        if user is not None:
            for group in self._parents("users", [user]):
                paths.setdefault(group, [group])
        frontier = list(paths)
        for _ in range(MAX_DEPTH):
            if not frontier:
                break
            parents = self._parents("groups", frontier)
            frontier = []
            for parent, child in parents.items():
                if parent not in paths:
                    paths[parent] = [*paths[child], parent]
                    frontier.append(parent)
        return paths

    def groups_of(self, user: str | None, extra_groups: Sequence[str] = ()) -> set[str]:
        return set(self.membership_paths(user, extra_groups))

    def expand_groups(self, groups: Iterable[str]) -> set[str]:
        """The given groups and every group that contains them, at any depth."""
        self.ensure()
        found = set(groups)
        frontier = list(found)
        for _ in range(MAX_DEPTH):
            if not frontier:
                break
            frontier = [g for g in self._parents("groups", frontier) if g not in found]
            found.update(frontier)
        return found
