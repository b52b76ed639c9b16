"""Structured text formats: CSV, TSV and JSON (incl. JSON Lines) to plain text."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any

# CSV

_CSV_SAMPLE_CHARS = 4096  # the sniffer backtracks: a bigger sample costs quadratically
_CSV_DELIMITERS = ",;\t|"


def parse_csv(text: str) -> tuple[str, str | None]:
    return _delimited(text, None), None


def parse_tsv(text: str) -> tuple[str, str | None]:
    return _delimited(text, "\t"), None


def _delimited(text: str, delimiter: str | None) -> str:
    """Rows become lines, cells become tab-separated; unparseable input is kept as is."""
    if delimiter is not None:
        rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    else:
        rows = csv.reader(io.StringIO(text), _sniff_dialect(text) or "excel")
    try:
        return "\n".join("\t".join(cell.strip() for cell in row if cell.strip()) for row in rows)
    except csv.Error:
        return text


def _sniff_dialect(text: str) -> Any:
    sample = text[:_CSV_SAMPLE_CHARS]
    if len(text) > _CSV_SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=_CSV_DELIMITERS)
    except csv.Error:
        return None


# JSON

_JSON_STRING_RE = re.compile(r'"((?:[^"\\\n]|\\.)*)"(\s*:)?')


def parse_json(text: str) -> tuple[str, str | None]:
    documents: list[Any] | None
    try:
        documents = [json.loads(text)]
    except RecursionError:
        return _json_by_tokens(text), None
    except ValueError:
        documents = _json_lines(text)
    if documents is None:
        return text, None
    lines: list[str] = []
    for document in documents:
        lines.extend(_json_flatten(document))
    return "\n".join(lines), _json_title(documents[0] if documents else None)


def _json_lines(text: str) -> list[Any] | None:
    """JSON Lines (one value per line), or None when the text is not that either."""
    try:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except (ValueError, RecursionError):
        return None


def _json_flatten(document: Any) -> Iterator[str]:
    """Yield ``key: value`` lines depth-first, with an explicit stack."""
    stack: list[tuple[str | None, Any]] = [(None, document)]
    while stack:
        key, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(reversed([(str(k), v) for k, v in value.items()]))
        elif isinstance(value, list):
            stack.extend(reversed([(key, item) for item in value]))
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            yield f"{key}: {value}" if key else str(value)


def _json_by_tokens(text: str) -> str:
    """Too deep for the parser: keep the string literals, pairing keys with their values."""
    lines: list[str] = []
    pending_key: str | None = None
    for match in _JSON_STRING_RE.finditer(text):
        literal = _json_unescape(match.group(1))
        if match.group(2):
            pending_key = literal
            continue
        lines.append(f"{pending_key}: {literal}" if pending_key else literal)
        pending_key = None
    return "\n".join(lines)


def _json_unescape(literal: str) -> str:
    try:
        return str(json.loads(f'"{literal}"'))
    except ValueError:
        return literal


def _json_title(document: Any) -> str | None:
    """A top-level ``"title"`` string, when the document has one."""
    if isinstance(document, dict) and isinstance(document.get("title"), str):
        return str(document["title"])
    return None
