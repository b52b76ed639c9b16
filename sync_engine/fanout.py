"""The runner's side of a fanned-out sync: send batches, count them in order, cap concurrency.

Enumeration stays in the runner (one per data source, under its lock), ordered and
checkpointed; extraction, embedding and writing run as batch tasks on their own queue
(``sync_engine.batches``). Results come back in any order; ``Fanout`` applies them in ``seq``
order only, so the job's shown progress and every saved checkpoint count exactly the batches
up to a contiguous watermark, and a checkpoint is saved only once every batch sent before it
is written. Limits: ``sync_batches_per_sync`` batches past the watermark per sync, and
``sync_batches_global`` in flight across all syncs (``GlobalSlots``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import redis

from connectors.models import Checkpoint, CrawlItem
from search.errors import BackendUnavailable
from search.pipeline import BatchStats
from search.settings import Settings
from sync_engine.batches import (
    done_key,
    encode_items,
    item_key,
    results_key,
    stale_field,
    stats_from_dict,
)
from sync_engine.locks import RedisLock, key, redis_client

log = logging.getLogger(__name__)

SendBatch = Callable[[dict[str, Any]], None]
"""Puts one batch message on the batch queue (the worker face provides it)."""

_ACQUIRE = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
if redis.call('zcard', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('zadd', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('pexpire', KEYS[1], tonumber(ARGV[2]) * 2)
  return 1
end
return 0
"""

_RENEW = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 2, #ARGV do
  redis.call('zadd', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
end
redis.call('pexpire', KEYS[1], tonumber(ARGV[1]) * 2)
return 1
"""


class GlobalSlots:
    """A crash-safe counting semaphore in Redis: a sorted set of slot tokens scored by expiry.

    A runner takes a slot per batch it sends and gives it back when the result is counted; it
    renews its slots while it lives, so a dead runner's slots lapse after ``ttl_s``.
    """

    def __init__(self, settings: Settings) -> None:
        self.client = redis_client(settings)
        self.name = key(settings, "batch-slots")
        self.cap = settings.sync_batches_global
        self.ttl_ms = max(1000, int(settings.sync_lock_ttl_s * 1000))
        self.held: set[str] = set()
        self._guard = threading.Lock()

    def acquire(self) -> str | None:
        token = uuid.uuid4().hex
        if self.client.eval(_ACQUIRE, 1, self.name, str(self.cap), str(self.ttl_ms), token):
            with self._guard:
                self.held.add(token)
            return token
        return None

    def release(self, token: str | None) -> None:
        if token is None:
            return
        with self._guard:
            self.held.discard(token)
        self.client.zrem(self.name, token)

    def renew(self) -> None:
        with self._guard:
            tokens = list(self.held)
        if tokens:
            self.client.eval(_RENEW, 1, self.name, str(self.ttl_ms), *tokens)

    def release_all(self) -> None:
        with self._guard:
            tokens, self.held = list(self.held), set()
        if tokens:
            self.client.zrem(self.name, *tokens)

    def in_use(self) -> int:
        """Live slots across every runner (expired ones not counted)."""
        now_s, micros = cast(tuple[int, int], self.client.time())
        now = now_s * 1000 + micros // 1000
        return int(cast(int, self.client.zcount(self.name, now, "+inf")))


class BatchFailed(Exception):
    """A batch failed for a reason other than the infrastructure (the job fails)."""


@dataclass
class _Sent:
    message: dict[str, Any]
    keys: set[str]
    sent_at: float
    slot: str | None
    resends: int = 0


class Fanout:
    """Sends one run's batches and applies their results in order (crawl thread only)."""

    def __init__(
        self,
        settings: Settings,
        *,
        job_id: str,
        data_source_id: str,
        lock: RedisLock,
        send: SendBatch,
        apply: Callable[[BatchStats], None],
        save_checkpoint: Callable[[Checkpoint], None],
        check_abort: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.client = redis_client(settings)
        self.job_id = job_id
        self.data_source_id = data_source_id
        self.run = uuid.uuid4().hex
        self.lock = lock
        self.send = send
        self.apply = apply
        self.save_checkpoint = save_checkpoint
        self.check_abort = check_abort
        self.slots = GlobalSlots(settings)
        self.results = results_key(settings, job_id, self.run)
        self.done = done_key(settings, job_id, self.run)
        self.next_seq = 0
        self.watermark = -1
        """Every batch up to this ``seq`` is written and counted."""
        self.in_flight: dict[int, _Sent] = {}
        self.finished: dict[int, BatchStats] = {}
        self.pending: list[tuple[int, Checkpoint]] = []
        """Checkpoints seen in the stream, saved once the watermark reaches their ``seq``."""

    @property
    def outstanding(self) -> int:
        """Sent but not yet counted: in flight, or written ahead of the watermark."""
        return self.next_seq - 1 - self.watermark

    def submit(self, items: Sequence[CrawlItem]) -> None:
        """Send a batch once the per-sync window, the global cap and earlier writes allow."""
        if not items:
            return
        keys = {k for k in (item_key(i) for i in items) if k is not None}
        # An item also in a batch still in flight waits for it: the later version must win.
        while any(keys & sent.keys for sent in self.in_flight.values()):
            self.poll()
        while self.outstanding >= self.settings.sync_batches_per_sync:
            self.poll()
        slot = self.slots.acquire()
        while slot is None:
            self.poll(0.1)
            slot = self.slots.acquire()
        seq = self.next_seq
        self.next_seq += 1
        message = {
            "job_id": self.job_id,
            "data_source_id": self.data_source_id,
            "run": self.run,
            "seq": seq,
            "lock": self.lock.name,
            "lock_token": self.lock.token,
            "items": encode_items(items),
        }
        self.in_flight[seq] = _Sent(message, keys, time.monotonic(), slot)
        self._send(message)

    def _send(self, message: dict[str, Any]) -> None:
        try:
            self.send(message)
        except Exception as exc:  # the broker is Redis: the run resumes once it is back
            raise BackendUnavailable(f"the batch queue is unreachable: {exc}") from exc

    def checkpoint(self, checkpoint: Checkpoint) -> None:
        """Save ``checkpoint`` once every batch sent before it is written."""
        self.pending.append((self.next_seq - 1, checkpoint))
        self._advance()

    def drain(self) -> None:
        """Wait until every batch sent is written and counted (and due checkpoints saved)."""
        while self.in_flight or self.finished:
            self.poll()

    def poll(self, wait_s: float = 0.5) -> None:
        """Collect results (waiting up to ``wait_s`` for one), apply what is in order."""
        self.check_abort()
        try:
            if wait_s > 0:  # (a zero timeout would block for ever)
                self.client.blpop([self.done], timeout=wait_s)
            if not self.in_flight:
                return
            seqs = sorted(self.in_flight)
            fields = [str(s) for s in seqs] + [stale_field(s) for s in seqs]
            found = cast(list[str | None], self.client.hmget(self.results, fields))
        except redis.RedisError as exc:
            raise BackendUnavailable(f"Redis unavailable while collecting batches: {exc}") from exc
        now = time.monotonic()
        stale = dict(zip(seqs, found[len(seqs) :], strict=True))
        for seq, raw in zip(seqs, found[: len(seqs)], strict=True):
            sent = self.in_flight[seq]
            if raw is None:
                if stale[seq] is not None:
                    self._resend_stale(seq, sent)
                elif now - sent.sent_at > self.settings.sync_batch_timeout_s:
                    self._resend(seq, sent)
                continue
            result = json.loads(raw)
            if not result.get("ok"):
                error = f"batch {seq} of the sync failed: {result.get('error')}"
                if result.get("transient"):
                    raise BackendUnavailable(error)
                raise BatchFailed(error)
            self.slots.release(sent.slot)
            del self.in_flight[seq]
            self.finished[seq] = stats_from_dict(result["stats"])
        self._advance()

    def _resend(self, seq: int, sent: _Sent) -> None:
        if sent.resends >= self.settings.sync_batch_resends:
            raise BatchFailed(
                f"batch {seq} of the sync got no result after {sent.resends + 1} sends of "
                f"{self.settings.sync_batch_timeout_s:g} s each: are batch workers consuming "
                f"the queue {self.settings.batch_queue!r}?"
            )
        sent.resends += 1
        sent.sent_at = time.monotonic()
        log.warning(
            "sync batch re-sent: no result in time",
            extra={"job_id": self.job_id, "seq": seq, "resends": sent.resends},
        )
        self._send(sent.message)

    def _resend_stale(self, seq: int, sent: _Sent) -> None:
        """A batch skipped because this run's lock had lapsed (a slow renewal): once the lock
        is ours again (the watch loop takes it back), send it again."""
        if not self.lock.owned():
            return  # not yet: the next poll looks again
        try:
            self.client.hdel(self.results, stale_field(seq))
        except redis.RedisError as exc:
            raise BackendUnavailable(f"Redis unavailable while collecting batches: {exc}") from exc
        log.warning(
            "sync batch re-sent: it found the run's lock lapsed",
            extra={"job_id": self.job_id, "seq": seq},
        )
        sent.sent_at = time.monotonic()
        self._send(sent.message)

    def _advance(self) -> None:
        while self.watermark + 1 in self.finished:
            self.watermark += 1
            self.apply(self.finished.pop(self.watermark))
            self._save_due()
        self._save_due()

    def _save_due(self) -> None:
        while self.pending and self.pending[0][0] <= self.watermark:
            _, checkpoint = self.pending.pop(0)
            if not self.pending or self.pending[0][0] > self.watermark:
                self.save_checkpoint(checkpoint)
            # else a later checkpoint is already due: saving the latest suffices

    def renew(self) -> None:
        """Keep this run's global slots alive (the runner's watch loop calls it)."""
        # Redis away: the slots may lapse, the cap is briefly loose, nothing is lost.
        with contextlib.suppress(redis.RedisError):
            self.slots.renew()

    def close(self) -> None:
        """Give back the slots and drop the run's result keys (the journal stays for a resume)."""
        with contextlib.suppress(redis.RedisError):  # else they expire
            self.slots.release_all()
            self.client.delete(self.results, self.done)
