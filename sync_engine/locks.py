"""Redis locks with owner tokens: one sync per data source, one scheduler tick at a time.

A lock is ``SET key token NX PX ttl``; only the holder of the token may renew or release it
(compare-and-set in Lua), so a worker that lost its lock (it expired while the process was
frozen) can never release the lock of the run that replaced it.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from typing import cast

import redis

from search.errors import BackendUnavailable
from search.settings import Settings

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""

_clients: dict[tuple[int, str], redis.Redis] = {}
_clients_guard = threading.Lock()


def redis_client(settings: Settings) -> redis.Redis:
    """One client (connection pool) per process and URL; a forked child builds its own."""
    key = (os.getpid(), settings.redis_url)
    with _clients_guard:
        client = _clients.get(key)
        if client is None:
            client = redis.Redis.from_url(
                settings.redis_url,
                socket_timeout=10,
                socket_connect_timeout=5,
                decode_responses=True,
            )
            _clients[key] = client
        return client


def key(settings: Settings, *parts: str) -> str:
    """Redis keys live under the index prefix, like everything else Quarry owns."""
    return ":".join([settings.index_prefix, "sync", *parts])


class RedisLock:
    """A lease on ``name``, held while it is renewed more often than ``ttl_s``."""

    def __init__(self, client: redis.Redis, name: str, ttl_s: float, token: str | None = None):
        self.client = client
        self.name = name
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.token = token or uuid.uuid4().hex

    def acquire(self, wait_s: float = 0.0, poll_s: float = 0.05) -> bool:
        """Take the lock, waiting up to ``wait_s`` for the holder to let go."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                if self.client.set(self.name, self.token, nx=True, px=self.ttl_ms):
                    return True
            except redis.RedisError as exc:
                raise BackendUnavailable(f"Redis unavailable: {exc}") from exc
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll_s)

    def renew(self) -> bool:
        """Extend the lease; False means it was lost (expired, or someone else holds it)."""
        try:
            return bool(self.client.eval(_RENEW, 1, self.name, self.token, str(self.ttl_ms)))
        except redis.RedisError:
            return False

    def release(self) -> None:
        with contextlib.suppress(redis.RedisError):  # else it expires on its own
            self.client.eval(_RELEASE, 1, self.name, self.token)

    def remaining_ms(self) -> int:
        """Milliseconds the current holder (anyone) keeps the lock; 0 when free."""
        try:
            left = cast(int, self.client.pttl(self.name))
        except redis.RedisError:
            return 0
        return max(left, 0)

    def owned(self) -> bool:
        """True while this lock's token holds it (not lapsed, not taken by a newer run)."""
        try:
            return bool(self.client.get(self.name) == self.token)
        except redis.RedisError as exc:
            raise BackendUnavailable(f"Redis unavailable: {exc}") from exc

    def held(self) -> bool:
        """True while anyone holds the lock (a live runner keeps renewing it)."""
        try:
            return bool(self.client.exists(self.name))
        except redis.RedisError as exc:
            raise BackendUnavailable(f"Redis unavailable: {exc}") from exc


START_LOCK_TTL_S = 30.0


def start_lock(settings: Settings, data_source_id: str) -> RedisLock:
    """Serialises job starts and the deletion of one data source (the 'pending start' guard)."""
    return RedisLock(
        redis_client(settings), key(settings, "start", data_source_id), START_LOCK_TTL_S
    )


def run_lock(settings: Settings, data_source_id: str, token: str | None = None) -> RedisLock:
    """Held by the one run syncing a data source; expires ``sync_lock_ttl_s`` after it dies."""
    name = key(settings, "run", data_source_id)
    return RedisLock(redis_client(settings), name, settings.sync_lock_ttl_s, token)
