"""Redis and the task queue as the faces see them: which exceptions mean a backend is down, and a
client for readiness checks. The faces import this module, never ``redis`` or ``kombu``."""

from __future__ import annotations

import redis
from kombu.exceptions import OperationalError

REDIS_ERRORS: tuple[type[Exception], ...] = (redis.RedisError,)
"""Exception classes a face registers a handler for: Redis failed or cannot be reached."""


def unreachable(exc: BaseException) -> str | None:
    """``"Redis"`` or ``"the task queue"`` when ``exc`` says that backend cannot be reached."""
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return "Redis"
    if isinstance(exc, OperationalError):
        return "the task queue"
    return None


def readiness_client(url: str) -> redis.Redis:
    """A client with short timeouts, so a readiness probe answers within seconds."""
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def queue_length(url: str, queue: str) -> int | None:
    """Tasks waiting in the broker's ``queue``; None when the broker cannot say."""
    try:
        return int(readiness_client(url).llen(queue))  # type: ignore[arg-type]
    except redis.RedisError:
        return None
