"""Pieces of the Alfresco client that need no server: Retry-After and ordered downloads."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from connectors.alfresco.client import _retry_after
from connectors.alfresco.pool import ordered_map


def test_retry_after_accepts_seconds_and_dates() -> None:
    assert _retry_after("3") == 3.0
    assert _retry_after(None) is None and _retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (_retry_after(later) or 0) <= 30
    assert _retry_after(format_datetime(datetime(2000, 1, 1, tzinfo=UTC), usegmt=True)) == 0


def test_ordered_map_keeps_input_order_and_bounds_work_in_flight() -> None:
    running = 0
    peak = 0
    lock = threading.Lock()

    def work(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(random.uniform(0, 0.003))
        with lock:
            running -= 1
        return n * n

    with ThreadPoolExecutor(8) as pool:
        assert list(ordered_map(pool, work, range(50), window=4)) == [n * n for n in range(50)]
    assert peak <= 4


def test_ordered_map_cancels_what_it_did_not_start_when_abandoned() -> None:
    started: list[int] = []
    with ThreadPoolExecutor(1) as pool:

        def record(n: int) -> int:
            started.append(n)
            return n

        results = ordered_map(pool, record, range(100), window=10)
        assert next(results) == 0
        results.close()
    assert len(started) < 100
