"""A sync's batch tasks: what travels to a batch worker, and what the worker does with it.

The runner (``sync_engine.fanout``) enumerates the source in order and sends each batch of
crawl items, numbered ``seq`` within its run, to the batch queue; any batch worker extracts,
embeds and writes it through the one ingestion path (``Pipeline.write_batch``) and stores the
batch's verdicts in Redis for the runner to count.

How content reaches the worker: the items themselves, content included, travel in the task
message (a bounded payload through the broker), not as references re-fetched by the worker.
Connectors have no random-access read (a crawl is one ordered stream; Alfresco content is
downloaded while enumerating, and a second download would double the source's load), and a
re-read could see a newer version than the one enumerated before the checkpoint. The payload
stays bounded: a batch closes early at ``sync_batch_max_bytes`` and at most
``sync_batches_global`` batches are in flight, so the broker holds at most their product.

Exact counts across redeliveries: a batch may run twice (its worker died after writing, or
the runner re-sent it), and the second run finds its documents already written and would
call them unchanged. So before the index changes, the batch notes its verdicts in the job's
journal (first verdict wins), and a replay restores them; the runner counts
the first stored result of each ``seq`` only. A new attempt of the runner (its worker died)
replays from the checkpoint and finds the dead attempt's verdicts in the same journal; the
runner forgets a batch's entries once a checkpoint past it is saved. The journal lives in
Elasticsearch beside the checkpoint; results, slots and messages live in Redis, and a Redis
restarted empty costs at most a resume from the checkpoint.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch

from connectors.models import CrawlItem, Deletion, Document, Failure, GroupMembership
from search.errors import BackendUnavailable
from search.pipeline import BatchStats
from search.purge import delete_matching
from search.runtime import Runtime
from search.settings import Settings
from sync_engine.locks import RedisLock, key, redis_client
from sync_engine.patient import patient_runtime
from sync_engine.retry import transient
from sync_engine.store import SyncStore

log = logging.getLogger(__name__)

BATCH_TASK = "quarry.sync_batch"
KEEP_S = 7 * 24 * 3600
"""A run's batch results outlive the run (its ``close`` deletes them)."""

_KINDS: dict[str, type[Document | Deletion | GroupMembership | Failure]] = {
    "document": Document,
    "deletion": Deletion,
    "group": GroupMembership,
    "failure": Failure,
}


def encode_items(items: Sequence[CrawlItem]) -> list[dict[str, Any]]:
    """JSON for the task message that decodes to equal items, types included: raw content as
    base64, datetimes (attribute values too, which could otherwise come back as strings) as
    ``{"$dt": isoformat}``, so the index holds exactly what an in-process write would."""
    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, Document):
            data = item.model_dump(mode="json", exclude={"content", "created_at", "modified_at"})
            for name in ("created_at", "modified_at"):
                data[name] = _dt(getattr(item, name))
            data["attributes"] = {k: _dt(v) for k, v in item.attributes.items()}
            if item.content is not None:
                data["content_b64"] = base64.b64encode(item.content).decode("ascii")
        else:
            data = item.model_dump(mode="json")
        out.append(data)
    return out


def decode_items(data: list[dict[str, Any]]) -> list[CrawlItem]:
    items: list[CrawlItem] = []
    for raw in data:
        raw = dict(raw)
        content = raw.pop("content_b64", None)
        if content is not None:
            raw["content"] = base64.b64decode(content)
        if raw["kind"] == "document":
            for name in ("created_at", "modified_at"):
                raw[name] = _undt(raw.get(name))
            raw["attributes"] = {k: _undt(v) for k, v in (raw.get("attributes") or {}).items()}
        items.append(_KINDS[raw["kind"]].model_validate(raw))
    return items


def _dt(value: Any) -> Any:
    return {"$dt": value.isoformat()} if isinstance(value, datetime) else value


def _undt(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$dt"}:
        return datetime.fromisoformat(value["$dt"])
    return value


def item_key(item: CrawlItem) -> str | None:
    """What two items must not write concurrently (the later one must win)."""
    if isinstance(item, Document | Deletion):
        return item.id
    if isinstance(item, GroupMembership):
        return f"group:{item.group}"
    return None


def item_bytes(item: CrawlItem) -> int:
    if isinstance(item, Document):
        return len(item.content or b"") + len((item.text or "").encode("utf-8")) + 512
    return 256


def stats_to_dict(stats: BatchStats) -> dict[str, Any]:
    return asdict(stats)


def stats_from_dict(data: dict[str, Any]) -> BatchStats:
    return BatchStats(**data)


def results_key(settings: Settings, job_id: str, run: str) -> str:
    return key(settings, "batches", job_id, run)


def stale_field(seq: int) -> str:
    """Set in a run's results when a batch found the run's lock not held and wrote nothing."""
    return f"stale:{seq}"


def done_key(settings: Settings, job_id: str, run: str) -> str:
    return key(settings, "batches-done", job_id, run)


class Journal:
    """The verdicts of a job's writes since its last checkpoint (see the module docstring).

    One tiny document per id in the checkpoints index (``create``: the first verdict wins,
    whichever of two concurrent runs of a batch got there first). It lives in Elasticsearch,
    next to the checkpoint it complements, so a Redis restarted empty loses no verdict.
    """

    def __init__(self, es: Elasticsearch, index: str, job_id: str, data_source_id: str) -> None:
        self.es = es
        self.index = index
        self.job_id = job_id
        self.data_source_id = data_source_id
        self.tag = f"{job_id}/journal"
        """The entries' ``job_id`` field: apart from the job's checkpoint, deleted together."""

    def _id(self, doc_id: str) -> str:
        digest = hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:40]
        return f"journal:{self.job_id}:{digest}"

    def note(self, added: list[str], modified: list[str]) -> None:
        """Called before the index changes (``Pipeline.write_batch``'s ``before_write``)."""
        body: list[dict[str, Any]] = []
        for verdict, ids in (("a", added), ("m", modified)):
            for doc_id in ids:
                body.append({"create": {"_index": self.index, "_id": self._id(doc_id)}})
                body.append(
                    {
                        "job_id": self.tag,
                        "data_source_id": self.data_source_id,
                        "doc_id": doc_id,
                        "verdict": verdict,
                    }
                )
        if not body:
            return
        items = self.es.bulk(operations=body, refresh=False).body["items"]
        refused = [
            i["create"] for i in items if i["create"].get("status", 500) not in (200, 201, 409)
        ]
        if refused:  # not noted: the batch must not write (its replay would miscount)
            raise BackendUnavailable(f"could not journal a sync batch: {refused[0].get('error')}")

    def reclassify(self, stats: BatchStats) -> None:
        """Replayed items keep the verdict their first write had."""
        ids = stats.unchanged + stats.modified
        if not ids:
            return
        docs = self.es.mget(index=self.index, ids=[self._id(i) for i in ids]).body["docs"]
        verdict = {d["_source"]["doc_id"]: d["_source"]["verdict"] for d in docs if d.get("found")}
        unchanged: list[str] = []
        for doc_id in stats.unchanged:
            if verdict.get(doc_id) == "a":
                stats.added.append(doc_id)
            elif verdict.get(doc_id) == "m":
                stats.modified.append(doc_id)
            else:
                unchanged.append(doc_id)
        modified: list[str] = []
        for doc_id in stats.modified:
            if verdict.get(doc_id) == "a":
                stats.added.append(doc_id)
            else:
                modified.append(doc_id)
        stats.unchanged, stats.modified = unchanged, modified

    def forget(self, ids: Sequence[str]) -> None:
        """Entries a saved checkpoint already counts (missing ones are fine)."""
        for i in range(0, len(ids), 1000):
            body = [
                {"delete": {"_index": self.index, "_id": self._id(d)}} for d in ids[i : i + 1000]
            ]
            self.es.bulk(operations=body, refresh=False)

    def delete(self) -> None:
        """Every entry, a dead attempt's included (the job is over: nothing replays)."""
        delete_matching(self.es, self.index, {"term": {"job_id": self.tag}})


class StaleBatch(Exception):
    """The run that sent this batch no longer holds its data source's lock."""


def run_batch(runtime: Runtime, message: dict[str, Any]) -> dict[str, Any]:
    """Write one batch (a batch worker's whole job) and store its verdicts for the runner.

    A batch whose result is already stored, or whose runner lost the data source's lock (it
    died and a newer run took over), is skipped: the newer run writes those items itself.
    """
    runtime = patient_runtime(runtime)  # an Elasticsearch blip waits, as in the runner
    settings = runtime.settings
    client = redis_client(settings)
    job_id, run, seq = message["job_id"], message["run"], int(message["seq"])
    results = results_key(settings, job_id, run)
    lock = RedisLock(client, message["lock"], settings.sync_lock_ttl_s, message["lock_token"])

    def publish(field: str, value: str) -> None:
        """Store the batch's word for the runner (the first one stands) and wake it."""
        done = done_key(settings, job_id, run)
        pipe = client.pipeline()
        pipe.hsetnx(results, field, value)
        pipe.expire(results, KEEP_S)
        pipe.rpush(done, str(seq))
        pipe.expire(done, KEEP_S)
        pipe.execute()

    def skipped_stale() -> dict[str, Any]:
        # Said to the runner: if it lives (its lock only lapsed a moment), it sends the batch
        # again at once instead of waiting ``sync_batch_timeout_s``.
        log.info("stale sync batch skipped", extra={"job_id": job_id, "seq": seq})
        publish(stale_field(seq), "1")
        return {"seq": seq, "skipped": "stale"}

    if client.hexists(results, str(seq)):
        return {"seq": seq, "skipped": "already written"}
    if not lock.owned():
        return skipped_stale()
    store = SyncStore(runtime.es, settings)
    journal = Journal(runtime.es, store.checkpoints, job_id, message["data_source_id"])

    def before_write(added: list[str], modified: list[str]) -> None:
        if not lock.owned():
            raise StaleBatch()
        journal.note(added, modified)

    try:  # every failure becomes a result: the runner must hear of it, not time out
        store.ensure()
        stats = runtime.pipeline.write_batch(
            message["data_source_id"],
            decode_items(message["items"]),
            job_id,
            before_write=before_write,
        )
        journal.reclassify(stats)
        result: dict[str, Any] = {"ok": True, "stats": stats_to_dict(stats)}
    except StaleBatch:
        return skipped_stale()
    except Exception as exc:
        log.warning(
            "sync batch failed",
            extra={"job_id": job_id, "seq": seq, "error": str(exc)[:500]},
            exc_info=not transient(exc),
        )
        result = {"ok": False, "transient": transient(exc), "error": f"{type(exc).__name__}: {exc}"}
    publish(str(seq), json.dumps(result))
    return {"seq": seq, "ok": result["ok"]}
