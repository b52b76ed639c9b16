"""The simulated search index's view of text: plain text from bytes, and word tokens.

Deliberately simple (lower-cased word tokens, no stemming): it only has to make AFTS
full-text terms behave predictably for tests.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_WORD = re.compile(r"\w+", re.UNICODE)


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    return " ".join(" ".join(collector.parts).split())


def plain_text(data: bytes, mime_type: str) -> str:
    """Best-effort text of textual content; binary formats need their text given explicitly."""
    if not (mime_type.startswith("text/") or mime_type == "application/json"):
        return ""
    decoded = data.decode("utf-8", errors="replace")
    return html_to_text(decoded) if mime_type == "text/html" else decoded


def tokens(text: str) -> list[str]:
    return [token.casefold() for token in _WORD.findall(text)]
