"""Whitespace and control-character normalisation, word-boundary truncation and titles."""

from __future__ import annotations

import re

_MAX_TITLE_CHARS = 500
_MAX_WORD_CHARS = 100

NEWLINE_RE = re.compile(r"\r\n?|[\x0b\x85\u2028]")
_PARAGRAPH_SEP_RE = re.compile(r"[\x0c\u2029]")
_JUNK_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u200b\ufeff\ud800-\udfff]")
_HSPACE_RE = re.compile(r"[^\S\n]{2,}|[^\S \n]")  # single spaces need no callback
_LINE_EDGE_RE = re.compile(r"[ \t]*\n[ \t]*")
_BLANK_LINES_RE = re.compile(r"\n{3,}")


def normalise(text: str) -> str:
    """Collapse spaces, keep paragraph breaks (one blank line) and drop control characters."""
    text = NEWLINE_RE.sub("\n", text)
    text = _PARAGRAPH_SEP_RE.sub("\n\n", text)
    text = _JUNK_RE.sub("", text)
    text = _HSPACE_RE.sub(lambda m: "\t" if "\t" in m.group() else " ", text)
    text = _LINE_EDGE_RE.sub("\n", text)
    text = _BLANK_LINES_RE.sub("\n\n", text)
    return text.strip()


def truncate(text: str, max_chars: int) -> tuple[str, int]:
    """Cut ``text`` to at most ``max_chars`` at a word boundary; return it and the dropped count.

    A "word" longer than 100 characters (base64, minified data) is cut through rather than
    dropped whole, so a blob near the limit cannot swallow the budget.
    """
    if len(text) <= max_chars:
        return text, 0
    cut = max_chars
    if cut > 0 and not text[cut].isspace():
        space = max(text.rfind(ch, 0, cut) for ch in " \n\t")
        if space > 0 and cut - space <= _MAX_WORD_CHARS:
            cut = space
    kept = text[:cut].rstrip()
    return kept, len(text) - len(kept)


def clean_title(title: str | None) -> str | None:
    if title is None:
        return None
    flat = " ".join(normalise(title).split())
    return truncate(flat, _MAX_TITLE_CHARS)[0] or None
