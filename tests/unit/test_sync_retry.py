"""Which backend errors a sync waits out, and how it gives up (no service needed)."""

from __future__ import annotations

import pytest
import redis
from elastic_transport import ApiResponseMeta, ConnectionTimeout, HttpHeaders, NodeConfig
from elasticsearch import ApiError, BadRequestError

from sync_engine.retry import InfraUnavailable, patiently, transient


def _api_error(status: int) -> ApiError:
    meta = ApiResponseMeta(
        status=status,
        http_version="1.1",
        headers=HttpHeaders(),
        duration=0.0,
        node=NodeConfig("http", "127.0.0.1", 9200),
    )
    cls = BadRequestError if status == 400 else ApiError
    return cls(message=f"status {status}", meta=meta, body={})


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConnectionTimeout("read timed out"), True),
        (_api_error(429), True),
        (_api_error(503), True),
        (_api_error(500), True),
        (redis.ConnectionError("refused"), True),
        (redis.BusyLoadingError("loading"), True),
        (_api_error(400), False),
        (_api_error(404), False),
        (ValueError("a bug"), False),
    ],
)
def test_transient_errors_are_told_from_real_ones(error: Exception, expected: bool) -> None:
    assert transient(error) is expected


def test_a_transient_error_is_retried_until_the_service_answers() -> None:
    calls: list[int] = []
    pauses: list[float] = []

    def action() -> str:
        calls.append(1)
        if len(calls) < 4:
            raise ConnectionTimeout("read timed out")
        return "ok"

    result = patiently(
        action, "a search", patience_s=60, address="http://es:9200", sleep=pauses.append
    )
    assert result == "ok" and len(calls) == 4
    assert len(pauses) == 3 and all(0 < p <= 5.0 for p in pauses)  # backoff, capped


def test_giving_up_names_the_service_its_address_and_the_time() -> None:
    def action() -> None:
        raise ConnectionTimeout("read timed out")

    with pytest.raises(InfraUnavailable) as caught:
        patiently(action, "a write", patience_s=0.0, address="http://es:9200", sleep=lambda _: None)
    message = str(caught.value)
    assert message.startswith("Elasticsearch at http://es:9200 timed out")
    assert "gave up after" in message and "a write" in message


def test_a_request_error_is_not_retried() -> None:
    calls: list[int] = []

    def action() -> None:
        calls.append(1)
        raise _api_error(400)

    with pytest.raises(BadRequestError):
        patiently(action, "a search", patience_s=60, address="x", sleep=lambda _: None)
    assert calls == [1]
