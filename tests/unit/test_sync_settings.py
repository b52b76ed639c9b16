"""Settings and schedule validation that need no service."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from search.settings import Settings
from sync_engine.models import DataSourceSpec


def test_the_stacks_port_variables_reach_the_python_settings(monkeypatch) -> None:
    for name in ("QUARRY_ES_URL", "QUARRY_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QUARRY_ES_PORT", "9201")
    monkeypatch.setenv("QUARRY_REDIS_PORT", "6380")
    settings = Settings()
    assert settings.es_url == "http://127.0.0.1:9201"
    assert settings.redis_url == "redis://127.0.0.1:6380/0"
    monkeypatch.setenv("QUARRY_ES_URL", "https://search.internal:9200")
    assert Settings().es_url == "https://search.internal:9200"  # an explicit URL wins


@pytest.mark.parametrize(
    ("schedule", "reason"),
    [
        ("0 0 30 2 *", "never fires"),
        ("0 0 31 4 *", "never fires"),
        ("* * * * * *", "has 6 fields; a schedule has 5 cron fields"),
        ("* * * *", "not a valid cron expression"),
        ("61 * * * *", "not a valid cron expression"),
    ],
)
def test_schedules_are_validated_by_their_next_runs(schedule: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        DataSourceSpec(name="s", type="filesystem", schedule=schedule)
    assert reason in str(caught.value) and "schedule" in str(caught.value)


def test_a_valid_schedule_is_kept_normalised() -> None:
    spec = DataSourceSpec(name="s", type="filesystem", schedule=" 0  2 29 2 * ")
    assert spec.schedule == "0 2 29 2 *"
