"""Bulk writes to the document index: retries on overload, per-document failures as data."""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, ConnectionError, ConnectionTimeout, Elasticsearch

from search.errors import BackendUnavailable

log = logging.getLogger(__name__)

RETRY_STATUSES = {429, 502, 503, 504}


def es_id(doc_id: str) -> str:
    """Elasticsearch ids are limited to 512 bytes: long source ids are hashed, stably."""
    raw = doc_id.encode("utf-8")
    if len(raw) <= 480:
        return doc_id
    return "h:" + hashlib.sha256(raw).hexdigest()


@dataclass
class BulkResult:
    ok: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class IndexWriter:
    """Upserts, partial updates and deletes against the alias, with bounded retries."""

    def __init__(self, es: Elasticsearch, alias: str, max_attempts: int = 6) -> None:
        self.es = es
        self.alias = alias
        self.max_attempts = max_attempts

    def bulk(self, actions: Sequence[tuple[dict[str, Any], dict[str, Any] | None]]) -> BulkResult:
        """Run (action, source) pairs; retry the items that failed with 429/5xx."""
        result = BulkResult()
        pending = list(actions)
        for attempt in range(1, self.max_attempts + 1):
            if not pending:
                break
            body: list[dict[str, Any]] = []
            for action, source in pending:
                body.append(action)
                if source is not None:
                    body.append(source)
            try:
                response = self.es.bulk(operations=body, refresh=False)
            except (ConnectionError, ConnectionTimeout) as exc:
                if attempt == self.max_attempts:
                    raise BackendUnavailable(
                        f"Elasticsearch unreachable during bulk write: {exc}"
                    ) from exc
                self._sleep(attempt)
                continue
            except ApiError as exc:
                if exc.status_code in RETRY_STATUSES and attempt < self.max_attempts:
                    self._sleep(attempt)
                    continue
                raise BackendUnavailable(f"bulk write rejected: {exc}") from exc
            retry: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
            for (action, source), item in zip(pending, response.body["items"], strict=True):
                op, outcome = next(iter(item.items()))
                doc_id = outcome["_id"]
                status = outcome.get("status", 500)
                if status < 300 or (op == "delete" and status == 404):
                    result.ok.append(doc_id)
                elif status in RETRY_STATUSES or status >= 500:
                    retry.append((action, source))
                    result.failed[doc_id] = _reason(outcome)
                else:
                    result.failed[doc_id] = _reason(outcome)
            for action, _ in retry:
                result.failed.pop(next(iter(action.values()))["_id"], None)
            if retry and attempt < self.max_attempts:
                self._sleep(attempt)
            elif retry:
                for action, _ in retry:
                    result.failed[next(iter(action.values()))["_id"]] = (
                        "still rejected after retries"
                    )
                retry = []
            pending = retry
        return result

    def upsert(self, docs: Sequence[dict[str, Any]]) -> BulkResult:
        return self.bulk(
            [({"index": {"_index": self.alias, "_id": es_id(d["doc_id"])}}, d) for d in docs]
        )

    def touch(
        self,
        doc_ids: Sequence[str],
        fields: dict[str, Any],
        each: dict[str, dict[str, Any]] | None = None,
    ) -> BulkResult:
        """Partial update (e.g. the job that last saw an unchanged document); ``each`` adds
        fields per document id."""
        each = each or {}
        return self.bulk(
            [
                (
                    {"update": {"_index": self.alias, "_id": es_id(i)}},
                    {"doc": {**fields, **each.get(i, {})}},
                )
                for i in doc_ids
            ]
        )

    def delete(self, doc_ids: Sequence[str]) -> BulkResult:
        return self.bulk(
            [({"delete": {"_index": self.alias, "_id": es_id(i)}}, None) for i in doc_ids]
        )

    def existing(self, doc_ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not doc_ids:
            return {}
        response = self.es.mget(
            index=self.alias, ids=[es_id(i) for i in doc_ids], source=list(fields)
        )
        return {
            d["_source"]["doc_id"]: d["_source"] for d in response.body["docs"] if d.get("found")
        }

    def refresh(self) -> None:
        self.es.indices.refresh(index=self.alias)

    @staticmethod
    def _sleep(attempt: int) -> None:
        time.sleep(min(10.0, 0.2 * 2 ** (attempt - 1)) * (0.5 + random.random()))


def _reason(outcome: dict[str, Any]) -> str:
    error = outcome.get("error")
    if isinstance(error, dict):
        return f"{error.get('type', 'error')}: {error.get('reason', '')}"[:500]
    return str(error or f"status {outcome.get('status')}")[:500]
