"""The identity store: group memberships from connectors and principal mappings, in Elasticsearch.

Memberships are stored as direct edges (group → users, group → sub-groups), one record per
(namespace, group): the namespace is the data source that crawled the group, or ``_global``
for mappings an administrator made for no source. They are resolved transitively at query time
by ``acl.identity.resolve``, namespace by namespace, so a change to one group reaches every
user below it without rewriting anything, and one source's groups never leak into another's.

Every completed change bumps a generation marker, so caches of resolved principals (in any
process) drop what a sync has just removed instead of waiting for a time-out.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError
from elasticsearch.helpers import scan

from acl import GLOBAL
from connectors.models import GroupMembership
from search.purge import delete_matching  # no _delete_by_query on minimal nodes
from search.system_index import ensure_index

log = logging.getLogger(__name__)

SCHEMA = 2
"""2: records carry lower-cased copies of their ids for case-insensitive sources."""
MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "data_source_id": {"type": "keyword"},
        "group": {"type": "keyword"},
        "users": {"type": "keyword"},
        "groups": {"type": "keyword"},
        "users_lc": {"type": "keyword"},
        "groups_lc": {"type": "keyword"},
        "schema": {"type": "integer"},
        "sync_job": {"type": "keyword"},
        "generation": {"type": "keyword"},
    },
}
GLOBAL_SOURCE = GLOBAL
"""Memberships put through the API without a data source: they count for every source."""
_GENERATION_ID = "\x1fgeneration"
_PAGE = 10_000


def _record(data_source_id: str, m: GroupMembership, job_id: str | None) -> dict[str, Any]:
    users, groups = sorted(set(m.users)), sorted(set(m.groups))
    return {
        "data_source_id": data_source_id,
        "group": m.group,
        "users": users,
        "groups": groups,
        "users_lc": sorted({u.lower() for u in users}),
        "groups_lc": sorted({g.lower() for g in groups}),
        "schema": SCHEMA,
        "sync_job": job_id,
    }


class IdentityStore:
    """Direct membership edges per namespace; implements ``acl.MembershipEdges``."""

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
        self._upgrade()
        self._ensured = True

    def _upgrade(self) -> None:
        """Give records written by an older Quarry their lower-cased ids (done once, at start)."""
        old = {
            "bool": {
                "must_not": [{"term": {"schema": SCHEMA}}, {"ids": {"values": [_GENERATION_ID]}}]
            }
        }
        if self.es.count(index=self.index, query=old).body["count"] == 0:
            return
        ops: list[dict[str, Any]] = []
        for hit in scan(self.es, index=self.index, query={"query": old}):
            src = hit["_source"]
            membership = GroupMembership(
                group=src["group"], users=src.get("users", []), groups=src.get("groups", [])
            )
            ops.append({"index": {"_index": self.index, "_id": hit["_id"]}})
            ops.append(_record(src["data_source_id"], membership, src.get("sync_job")))
        for start in range(0, len(ops), 1000):
            self.es.bulk(operations=ops[start : start + 1000], refresh=True)
        log.info("identity store upgraded", extra={"index": self.index, "records": len(ops) // 2})
        self.bump_generation()

    # ----- generation: what caches compare to know they are current
    def generation(self) -> str:
        self.ensure()
        try:
            doc = self.es.get(index=self.index, id=_GENERATION_ID).body["_source"]
        except NotFoundError:
            return "0"
        return str(doc.get("generation") or "0")

    def bump_generation(self) -> None:
        """Mark the store changed; called after every completed (refreshed) write."""
        self.ensure()
        self.es.index(
            index=self.index,
            id=_GENERATION_ID,
            document={"generation": uuid.uuid4().hex},
            refresh=True,
        )

    @staticmethod
    def _id(data_source_id: str, group: str) -> str:
        return f"{data_source_id}\x1f{group}"

    # ----- writes
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
            ops.append(_record(data_source_id, m, job_id))
        if ops:
            response = self.es.bulk(operations=ops, refresh=True)
            if response.body.get("errors"):
                raise RuntimeError("identity store rejected some group memberships")
            self.bump_generation()

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
        self.bump_generation()
        return True

    def delete_stale(self, data_source_id: str, job_id: str, keep: Sequence[str] = ()) -> int:
        """After a complete full sync, forget the groups it no longer saw.

        A group deleted at the source must stop granting its former members anything. Records
        put through the API (no sync job) are the administrator's and are kept.
        """
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
        self.bump_generation()
        return deleted

    def delete_source(self, data_source_id: str) -> None:
        self.ensure()
        delete_matching(self.es, self.index, {"term": {"data_source_id": data_source_id}})
        self.bump_generation()

    def namespaces(self) -> set[str]:
        """Every data source that has identity records (the global namespace aside)."""
        self.ensure()
        response = self.es.search(
            index=self.index,
            size=0,
            aggs={"sources": {"terms": {"field": "data_source_id", "size": 10_000}}},
        )
        buckets = response.body["aggregations"]["sources"]["buckets"]
        return {b["key"] for b in buckets} - {GLOBAL}

    # ----- reads: acl.MembershipEdges
    def _records(
        self, namespaces: Sequence[str], field: str, values: list[str]
    ) -> list[dict[str, Any]]:
        """Records of ``namespaces`` whose ``field`` holds any of ``values`` (up to _PAGE)."""
        response = self.es.search(
            index=self.index,
            size=_PAGE,
            query={
                "bool": {
                    "filter": [
                        {"terms": {"data_source_id": list(namespaces)}},
                        {"terms": {field: values}},
                    ]
                }
            },
            source={"includes": ["group", field]},
        )
        return [hit["_source"] for hit in response.body["hits"]["hits"]]

    def direct_groups(self, user: str, namespaces: Sequence[str], fold: bool) -> set[str]:
        self.ensure()
        field, value = ("users_lc", user.lower()) if fold else ("users", user)
        return {src["group"] for src in self._records(namespaces, field, [value])}

    def parents(
        self, groups: Sequence[str], namespaces: Sequence[str], fold: bool
    ) -> list[tuple[str, str]]:
        self.ensure()
        field = "groups_lc" if fold else "groups"
        values = sorted({g.lower() for g in groups} if fold else set(groups))
        found: list[tuple[str, str]] = []
        for start in range(0, len(values), 1000):
            chunk = values[start : start + 1000]
            wanted = set(chunk)
            for src in self._records(namespaces, field, chunk):
                found += [(src["group"], child) for child in src.get(field, []) if child in wanted]
        return found
