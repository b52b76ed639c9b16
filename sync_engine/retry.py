"""Transient infrastructure errors on the sync path, and patience with them.

A sync must outlive a brief Elasticsearch or Redis outage, stall or overload: every call the
sync engine makes to either is retried with capped exponential backoff (full jitter) while
the error is transient — no connection, a timeout, 429 or a 5xx — for up to
``sync_infra_patience_s``; after that it raises ``InfraUnavailable`` naming the service, its
address, what timed out and for how long. Anything else (a 400, a mapping error, a conflict)
is not retried here.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TransportError
from elasticsearch import ApiError

from search.errors import BackendUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_BACKOFF_S = 5.0


class InfraUnavailable(BackendUnavailable):
    """Elasticsearch or Redis stayed unavailable for longer than the sync's patience."""

    def __init__(self, service: str, message: str) -> None:
        super().__init__(message)
        self.service = service


def transient(exc: BaseException) -> bool:
    """True for failures that say 'try again later', not 'this request is wrong'."""
    if isinstance(exc, InfraUnavailable):
        return True
    if isinstance(exc, ConnectionTimeout | TransportConnectionError):
        return True
    if isinstance(exc, ApiError):
        return exc.status_code in RETRY_STATUSES or exc.status_code >= 500
    if isinstance(exc, TransportError):  # serialisation and other transport-level faults
        return True
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return True  # BusyLoadingError (a restarting Redis) is a ConnectionError
    # BackendUnavailable: e.g. the bulk writer's own 'retried and gave up'.
    return isinstance(exc, BackendUnavailable)


def service_of(exc: BaseException) -> str:
    if isinstance(exc, InfraUnavailable):
        return exc.service
    return "Redis" if isinstance(exc, redis.RedisError) else "Elasticsearch"


def describe(exc: BaseException) -> str:
    kind = "timed out" if isinstance(exc, ConnectionTimeout | redis.TimeoutError) else "failed"
    return f"{kind} ({type(exc).__name__}: {str(exc)[:200]})"


def patiently(
    action: Callable[[], T],
    what: str,
    *,
    patience_s: float,
    address: str,
    service: str = "Elasticsearch",
    sleep: Callable[[float], Any] = time.sleep,
) -> T:
    """Run ``action``, retrying transient errors with backoff for up to ``patience_s``."""
    start = time.monotonic()
    attempt = 0
    while True:
        try:
            return action()
        except Exception as exc:
            if not transient(exc):
                raise
            if isinstance(exc, InfraUnavailable):
                raise
            waited = time.monotonic() - start
            if waited >= patience_s:
                raise InfraUnavailable(
                    service,
                    f"{service} at {address} {describe(exc)} during {what}; "
                    f"gave up after {waited:.0f} s",
                ) from exc
            attempt += 1
            pause = random.uniform(0.5, 1.0) * min(MAX_BACKOFF_S, 0.2 * 2 ** min(attempt, 10))
            pause = min(pause, max(0.05, patience_s - waited))
            if attempt == 1 or attempt % 10 == 0:
                log.warning(
                    "transient backend error, retrying",
                    extra={"service": service, "what": what, "attempt": attempt},
                )
            sleep(pause)


class PatientProxy:
    """Wraps a client (or one of its namespaces, such as ``es.indices``) so that every method
    call goes through ``patiently``. Attribute reads that are not callables pass through."""

    def __init__(self, target: Any, patience_s: float, address: str, service: str) -> None:
        self._target = target
        self._patience_s = patience_s
        self._address = address
        self._service = service

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if name in ("indices", "cluster", "tasks"):  # namespaces of the Elasticsearch client
            return PatientProxy(value, self._patience_s, self._address, self._service)
        if not callable(value) or name.startswith("_") or name in ("options", "close"):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            return patiently(
                lambda: value(*args, **kwargs),
                f"{self._service} {name}",
                patience_s=self._patience_s,
                address=self._address,
                service=self._service,
            )

        return call


def patient_es(es: Any, settings: Any) -> Any:
    """``es`` whose every call on the sync path waits out transient errors (see module doc)."""
    if isinstance(es, PatientProxy):
        return es
    return PatientProxy(es, settings.sync_infra_patience_s, settings.es_url, "Elasticsearch")
