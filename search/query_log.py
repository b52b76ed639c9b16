"""The query log (suggestions, analysis) and search feedback, in system indices.

Both are append-only and keyed so that a retried write cannot duplicate: a logged query's id
is its ``query_id``, a feedback item's id is derived from the query, result and kind.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from elasticsearch import NotFoundError

from search.errors import BackendUnavailable, BadRequest
from search.system_index import SystemIndex

log = logging.getLogger(__name__)


def normalise(text: str) -> str:
    """The form past queries are grouped and prefix-matched by."""
    return " ".join(text.lower().split())


def _strict(properties: dict[str, Any]) -> dict[str, Any]:
    return {"dynamic": "strict", "properties": properties}


class QueryLog(SystemIndex):
    """One record per answered query; Kendra keeps the same for its query-history suggestions."""

    index_mappings = _strict(
        {
            "query_id": {"type": "keyword"},
            "query_text": {"type": "keyword", "ignore_above": 1024},
            "query_norm": {"type": "keyword", "ignore_above": 1024},
            "user": {"type": "keyword"},
            "total": {"type": "long"},
            "page_number": {"type": "integer"},
            "took_ms": {"type": "float"},
            "timestamp": {"type": "date"},
        }
    )

    def record(
        self,
        query_id: str,
        text: str,
        user: str | None,
        total: int,
        page_number: int,
        took_ms: float,
    ) -> None:
        """Best effort: a query is answered even when its log record cannot be written."""
        try:
            self.ensure()
            self.es.index(
                index=self.index,
                id=query_id,
                document={
                    "query_id": query_id,
                    "query_text": " ".join(text.split())[:1024],
                    "query_norm": normalise(text)[:1024],
                    "user": user or "",
                    "total": total,
                    "page_number": page_number,
                    "took_ms": round(took_ms, 2),
                    "timestamp": datetime.now(UTC).isoformat(),
                },
            )
        except Exception as exc:
            log.warning("query log write failed: %s", type(exc).__name__)

    def get(self, query_id: str) -> dict[str, Any] | None:
        self.ensure()
        try:
            found: dict[str, Any] = self.es.get(index=self.index, id=query_id).body["_source"]
        except NotFoundError:
            return None
        return found

    def popular(self, prefix: str, limit: int, min_users: int) -> list[str]:
        """Past queries that found something, starting with ``prefix``, most asked first."""
        self.ensure()
        response = self.es.search(
            index=self.index,
            size=0,
            query={
                "bool": {
                    "filter": [
                        {"prefix": {"query_norm": normalise(prefix)}},
                        {
                            "term": {"page_number": 1}
                        },  # paging through one search is not asking again
                        {"range": {"total": {"gt": 0}}},
                    ]
                }
            },
            aggs={
                "queries": {
                    "terms": {"field": "query_norm", "size": max(limit * 3, 10)},
                    "aggs": {"users": {"cardinality": {"field": "user"}}},
                }
            },
        ).body
        buckets = response["aggregations"]["queries"]["buckets"]
        return [b["key"] for b in buckets if b["users"]["value"] >= min_users][: limit * 3]


class Click(Protocol):
    @property
    def result_id(self) -> str: ...
    @property
    def clicked_at(self) -> datetime: ...


class Judgement(Protocol):
    @property
    def result_id(self) -> str: ...
    @property
    def relevant(self) -> bool: ...


class Feedback(Protocol):
    """What a face received (the REST body or Kendra's SubmitFeedback, already validated)."""

    @property
    def query_id(self) -> str: ...
    @property
    def clicks(self) -> Sequence[Click]: ...
    @property
    def relevance(self) -> Sequence[Judgement]: ...


class FeedbackStore(SystemIndex):
    """One record per click or relevance judgement, with the query it answers."""

    index_mappings = _strict(
        {
            "kind": {"type": "keyword"},
            "query_id": {"type": "keyword"},
            "query_text": {"type": "keyword", "ignore_above": 1024},
            "user": {"type": "keyword"},
            "result_id": {"type": "keyword"},
            "clicked_at": {"type": "date"},
            "relevant": {"type": "boolean"},
            "submitted_at": {"type": "date"},
        }
    )

    def store(self, body: Feedback, query: dict[str, Any]) -> int:
        self.ensure()
        now = datetime.now(UTC).isoformat()
        base = {
            "query_id": body.query_id,
            "query_text": query.get("query_text", ""),
            "user": query.get("user", ""),
            "submitted_at": now,
        }
        ops: list[dict[str, Any]] = []
        for click in body.clicks:
            at = (
                click.clicked_at
                if click.clicked_at.tzinfo
                else click.clicked_at.replace(tzinfo=UTC)
            )
            key = f"click\x1f{body.query_id}\x1f{click.result_id}\x1f{at.isoformat()}"
            ops += [
                {"index": {"_index": self.index, "_id": _id(key)}},
                {
                    **base,
                    "kind": "click",
                    "result_id": click.result_id,
                    "clicked_at": at.isoformat(),
                },
            ]
        for judged in body.relevance:
            # The latest judgement of a result for a query replaces the earlier one.
            key = f"relevance\x1f{body.query_id}\x1f{judged.result_id}"
            ops += [
                {"index": {"_index": self.index, "_id": _id(key)}},
                {
                    **base,
                    "kind": "relevance",
                    "result_id": judged.result_id,
                    "relevant": judged.relevant,
                },
            ]
        response = self.es.bulk(operations=ops)
        if response.body.get("errors"):
            failed = [
                i
                for i in response.body["items"]
                if next(iter(i.values())).get("status", 500) >= 300
            ]
            statuses = {next(iter(i.values())).get("status", 500) for i in failed}
            if all(400 <= status < 500 and status != 429 for status in statuses):
                # A document Elasticsearch refuses is the caller's input, not an outage.
                raise BadRequest(f"the feedback index rejected {len(failed)} items as invalid")
            raise BackendUnavailable(f"the feedback index rejected {len(failed)} items")
        return len(ops) // 2


def _id(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
