"""The result of extraction and the shapes passed between its stages."""

from __future__ import annotations

from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict


class Extracted(BaseModel):
    """What the pipeline indexes for one document's body."""

    model_config = ConfigDict(frozen=True)

    text: str
    title: str | None = None
    truncated_chars: int = 0
    """Characters of normalised text dropped to respect ``max_chars`` (0 if none)."""
    metadata_only_reason: str | None = None
    """Why the document has no text; None when text was extracted."""
    detected_encoding: str | None = None
    """Python codec name used to decode text bytes; None for binary formats and ``text``."""


Kind = Literal[
    "text", "markdown", "html", "xml", "csv", "tsv", "json",
    "pdf", "docx", "xlsx", "pptx", "image", "unsupported",
]  # fmt: skip


class Detected(NamedTuple):
    kind: Kind
    label: str
    """How the type was named (MIME type, extension or sniffed format), for reasons."""


class Raw(NamedTuple):
    """A parser's result before normalisation and truncation."""

    text: str
    title: str | None = None
    reason: str | None = None
    encoding: str | None = None


TEXTUAL: frozenset[Kind] = frozenset({"text", "markdown", "html", "xml", "csv", "tsv", "json"})
