"""Kendra-only records in Elasticsearch system indices: indexes, data source extras, queries.

Quarry has one document index; a Kendra *index* here is a record naming a user-context
policy and token configuration, and every record reads and writes the one document index
through the same services as the native API. Data sources, jobs and group memberships live
in the core's own stores; only what Kendra has and Quarry does not (a create request's
``ClientToken``, a mapping's ``OrderingId``, which documents a query answered) is kept here.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import ConflictError, NotFoundError

from search.system_index import SystemIndex

_KEYWORD = {"type": "keyword"}
_DATE = {"type": "date"}
_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "kind": _KEYWORD,
        "id": _KEYWORD,
        "name": _KEYWORD,
        "client_token": _KEYWORD,
        "index_id": _KEYWORD,
        "created_at": _DATE,
    },
}


class RecordStore(SystemIndex):
    """Small JSON records by (kind, id); unindexed beyond the few fields above."""

    index_mappings = _MAPPING

    @staticmethod
    def _doc_id(kind: str, record_id: str) -> str:
        return f"{kind}\x1f{record_id}"

    def create(self, kind: str, record_id: str, doc: dict[str, Any]) -> bool:
        """Write a new record; False if one with that id exists already."""
        self.ensure()
        try:
            self.es.create(
                index=self.index,
                id=self._doc_id(kind, record_id),
                document={**doc, "kind": kind, "id": record_id},
                refresh="true",
            )
        except ConflictError:
            return False
        return True

    def put(self, kind: str, record_id: str, doc: dict[str, Any], refresh: bool = True) -> None:
        self.ensure()
        self.es.index(
            index=self.index,
            id=self._doc_id(kind, record_id),
            document={**doc, "kind": kind, "id": record_id},
            refresh="true" if refresh else "false",
        )

    def get(self, kind: str, record_id: str) -> dict[str, Any] | None:
        self.ensure()
        try:
            found: dict[str, Any] = self.es.get(
                index=self.index, id=self._doc_id(kind, record_id)
            ).body["_source"]
        except NotFoundError:
            return None
        return found

    def delete(self, kind: str, record_id: str) -> bool:
        self.ensure()
        try:
            self.es.delete(index=self.index, id=self._doc_id(kind, record_id), refresh="true")
        except NotFoundError:
            return False
        return True

    def find(self, kind: str, field: str, value: str) -> list[dict[str, Any]]:
        self.ensure()
        hits = self.es.search(
            index=self.index,
            size=100,
            query={"bool": {"filter": [{"term": {"kind": kind}}, {"term": {field: value}}]}},
        ).body["hits"]["hits"]
        return [h["_source"] for h in hits]

    def page(self, kind: str, start: int, size: int) -> tuple[list[dict[str, Any]], int]:
        """Records of a kind, oldest first, and how many there are."""
        self.ensure()
        body = self.es.search(
            index=self.index,
            from_=start,
            size=size,
            track_total_hits=True,
            query={"term": {"kind": kind}},
            sort=[{"created_at": "asc"}, {"id": "asc"}],
        ).body
        return [h["_source"] for h in body["hits"]["hits"]], int(body["hits"]["total"]["value"])
