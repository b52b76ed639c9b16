"""Logs are one JSON object per line, with extra fields and the surrounding context."""

from __future__ import annotations

import json
import logging

from search.logs import JsonFormatter, log_context


def test_json_lines_carry_extra_fields_and_context() -> None:
    record = logging.LogRecord(
        "quarry.test", logging.WARNING, __file__, 1, "document failed", None, None
    )
    record.doc_id = "ds:42"
    with log_context(job_id="job-1", data_source_id="ds"):
        line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "document failed"
    assert entry["level"] == "warning"
    assert entry["doc_id"] == "ds:42"
    assert entry["job_id"] == "job-1"
    assert entry["data_source_id"] == "ds"
    # Outside the block the context is gone.
    assert "job_id" not in json.loads(JsonFormatter().format(record))
