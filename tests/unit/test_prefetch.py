"""The bounded read-ahead between the connector and the pipeline."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from search.prefetch import prefetched


def test_items_arrive_in_order() -> None:
    assert list(prefetched(iter(range(1000)), maxsize=7)) == list(range(1000))


def test_the_producer_never_runs_more_than_the_bound_ahead() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for i in range(100):
            produced.append(i)
            yield i

    consumer = prefetched(source(), maxsize=5)
    assert next(consumer) == 0
    time.sleep(0.3)
    # One handed over, five buffered, one waiting to be put.
    assert len(produced) <= 7
    consumer.close()


def test_a_source_error_reaches_the_consumer_after_the_items_before_it() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise RuntimeError("source broke")

    got: list[int] = []
    with pytest.raises(RuntimeError, match="source broke"):
        for item in prefetched(source(), maxsize=10):
            got.append(item)
    assert got == [1, 2]


def test_closing_the_consumer_stops_the_producer() -> None:
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    consumer = prefetched(source(), maxsize=2)
    assert [next(consumer) for _ in range(3)] == [0, 1, 2]
    consumer.close()
    assert closed.wait(timeout=5)


def test_idle_runs_while_the_source_is_slow_and_its_error_reaches_the_consumer() -> None:
    idled = threading.Event()
    calls: list[int] = []

    def slow() -> Iterator[int]:
        yield 1
        idled.wait(30)  # the next item comes only once the consumer has idled
        yield 2

    def idle() -> None:
        calls.append(1)
        idled.set()

    assert list(prefetched(slow(), maxsize=2, idle=idle, idle_every_s=0.01)) == [1, 2]
    assert calls

    class Stop(Exception):
        pass

    def refuse() -> None:
        raise Stop()

    def never() -> Iterator[int]:
        yield 1
        threading.Event().wait(30)
        yield 2

    items = prefetched(never(), maxsize=2, idle=refuse, idle_every_s=0.01)
    assert next(items) == 1
    with pytest.raises(Stop):
        next(items)
