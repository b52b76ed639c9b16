"""Failure injection and request accounting, changeable while the server runs.

A ``FaultRule`` picks matching API requests (optionally one endpoint, such as
``"GET /nodes/{nodeId}/children"``) by ordinal (``at``: the n-th matching request since
the rule was added), by period (``every``), or at random (``rate``, from a seeded
generator), and answers them with an HTTP error (429/500/503, with ``Retry-After`` when
given), a connection reset, a hang longer than the client's timeout, or (``false_end``) a
list page that answers normally but says ``hasMoreItems: false`` too early. Separately:
fixed latency, malformed JSON for named node ids, and a search-index lag. Every API
request is counted per endpoint and logged, so tests can assert how a client behaved.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FaultKind = Literal["error", "reset", "timeout", "false_end"]


@dataclass
class FaultRule:
    kind: FaultKind = "error"
    status: int = 503
    retry_after_s: int | None = None
    endpoint: str | None = None
    """``"METHOD /template"`` as counted in ``request_counts``; None matches every request."""
    at: tuple[int, ...] = ()
    every: int = 0
    rate: float = 0.0
    limit: int | None = None
    """Stop after firing this many times."""
    hang_s: float = 30.0
    hide_total: bool = False
    """``false_end`` only: also drop ``totalItems``, as a source that does not count would."""
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("error", "reset", "timeout", "false_end"):
            raise ValueError(f"unknown fault kind {self.kind!r}")
        self.at = tuple(self.at)

    def matches(self, endpoint: str) -> bool:
        return self.endpoint is None or self.endpoint == endpoint

    def exhausted(self) -> bool:
        return self.limit is not None and self.fired >= self.limit

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = list(self.at)
        return data


@dataclass(frozen=True)
class RequestRecord:
    method: str
    endpoint: str
    path: str
    query: str
    user: str
    status: int
    fault: str | None


@dataclass
class FaultDecision:
    rule: FaultRule | None = None
    latency_ms: int = 0


@dataclass
class _Settings:
    latency_ms: int = 0
    search_lag_ms: int = 0
    malformed_node_ids: set[str] = field(default_factory=set)
    rules: list[FaultRule] = field(default_factory=list)


class Faults:
    """Thread-safe fault settings plus per-endpoint request counters."""

    def __init__(
        self,
        *,
        latency_ms: int = 0,
        search_lag_ms: int = 0,
        seed: int = 0,
        log_size: int = 2000,
    ) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._settings = _Settings(latency_ms, search_lag_ms)
        self._counts: Counter[str] = Counter()
        self._log: deque[RequestRecord] = deque(maxlen=log_size)

    # -- configuration -------------------------------------------------------------------

    @property
    def latency_ms(self) -> int:
        return self._settings.latency_ms

    @property
    def search_lag_ms(self) -> int:
        return self._settings.search_lag_ms

    def set_latency(self, milliseconds: int) -> None:
        with self._lock:
            self._settings.latency_ms = max(0, milliseconds)

    def set_search_lag(self, milliseconds: int) -> None:
        """Nodes changed less than this long ago are not yet visible to the Search API."""
        with self._lock:
            self._settings.search_lag_ms = max(0, milliseconds)

    def add_rule(self, rule: FaultRule | None = None, **options: Any) -> FaultRule:
        """Add ``rule`` (or one built from ``options``); returns it so tests can inspect it."""
        built = rule or FaultRule(**options)
        with self._lock:
            self._settings.rules.append(built)
        return built

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        endpoint: str | None = None,
        retry_after_s: int | None = None,
        kind: FaultKind = "error",
    ) -> FaultRule:
        """The next ``count`` matching requests fail."""
        return self.add_rule(
            kind=kind,
            status=status,
            endpoint=endpoint,
            retry_after_s=retry_after_s,
            at=tuple(range(1, count + 1)),
        )

    def malform(self, *node_ids: str) -> None:
        """JSON responses about these node ids (ids in the request path) become truncated."""
        with self._lock:
            self._settings.malformed_node_ids.update(node_ids)

    def malformed_node_ids(self) -> set[str]:
        with self._lock:
            return set(self._settings.malformed_node_ids)

    def clear(self) -> None:
        """Remove every fault (latency, lag, rules, malformed ids); counters stay."""
        with self._lock:
            self._settings = _Settings()

    def configure(self, settings: dict[str, Any]) -> None:
        """Replace the settings from a JSON object (the admin endpoint and ``--faults-file``)."""
        rules = [FaultRule(**self._rule_options(r)) for r in settings.get("rules", [])]
        with self._lock:
            self._settings = _Settings(
                int(settings.get("latency_ms", 0)),
                int(settings.get("search_lag_ms", 0)),
                set(settings.get("malformed_node_ids", [])),
                rules,
            )
            if "seed" in settings:
                self._rng = random.Random(settings["seed"])

    @staticmethod
    def _rule_options(raw: dict[str, Any]) -> dict[str, Any]:
        allowed = {
            "kind",
            "status",
            "retry_after_s",
            "endpoint",
            "at",
            "every",
            "rate",
            "limit",
            "hang_s",
            "hide_total",
        }
        unknown = set(raw) - allowed
        if unknown:
            raise ValueError(f"unknown fault rule fields: {sorted(unknown)}")
        options = dict(raw)
        options["at"] = tuple(int(n) for n in raw.get("at", ()))
        return options

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency_ms": self._settings.latency_ms,
                "search_lag_ms": self._settings.search_lag_ms,
                "malformed_node_ids": sorted(self._settings.malformed_node_ids),
                "rules": [r.to_json() for r in self._settings.rules],
            }

    # -- per request ---------------------------------------------------------------------

    def decide(self, endpoint: str) -> FaultDecision:
        """Count the request and choose its fault (first firing rule wins)."""
        with self._lock:
            self._counts[endpoint] += 1
            chosen: FaultRule | None = None
            for rule in self._settings.rules:
                if not rule.matches(endpoint) or rule.exhausted():
                    continue
                rule.seen += 1
                fires = (
                    rule.seen in rule.at
                    or (rule.every > 0 and rule.seen % rule.every == 0)
                    or (rule.rate > 0 and self._rng.random() < rule.rate)
                )
                if fires and chosen is None:
                    rule.fired += 1
                    chosen = rule
            return FaultDecision(chosen, self._settings.latency_ms)

    def record(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)

    def request_counts(self) -> dict[str, int]:
        """Requests received per endpoint, e.g. ``{"GET /nodes/{nodeId}/children": 12}``."""
        with self._lock:
            return dict(self._counts)

    def request_log(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()
            self._log.clear()
