"""The entry point: pick a parser for a document, run it and finish the result."""

from __future__ import annotations

from collections.abc import Callable

from search.extract.decode import declared_charsets, decode
from search.extract.detect import SNIFF_BYTES, detect_kind
from search.extract.markup import parse_html, parse_markdown, parse_xml
from search.extract.model import TEXTUAL, Extracted, Kind, Raw
from search.extract.normalise import clean_title, normalise, truncate
from search.extract.office import parse_docx, parse_pdf, parse_pptx, parse_xlsx
from search.extract.structured import parse_csv, parse_json, parse_tsv


def extract(
    content: bytes | None,
    text: str | None,
    content_type: str | None,
    filename: str | None,
    max_chars: int,
) -> Extracted:
    """Extract a document's plain text and title; failures become ``metadata_only_reason``."""
    if max_chars < 0:
        raise ValueError("max_chars must be >= 0")
    raw = _extract_raw(content, text, content_type, filename)
    return _finish(raw, max_chars)


def _extract_raw(
    content: bytes | None, text: str | None, content_type: str | None, filename: str | None
) -> Raw:
    if text is not None and (text.strip() or content is None):
        head = text[:SNIFF_BYTES].encode("utf-8", "replace")
        detected = detect_kind(content_type, filename, head)
        kind = detected.kind if detected.kind in TEXTUAL else "text"
        return _parse_text(kind, text, None)
    if content is None:
        return Raw("", reason="no content was supplied")
    detected = detect_kind(content_type, filename, content)
    if detected.kind in TEXTUAL:
        return _decode_and_parse(detected.kind, detected.label, content, content_type)
    if detected.kind == "image":
        return Raw("", reason=f"image ({detected.label}) has no extractable text")
    if detected.kind == "unsupported":
        return Raw("", reason=f"unsupported content type: {detected.label}")
    return _BINARY_PARSERS[detected.kind](content)


def _finish(raw: Raw, max_chars: int) -> Extracted:
    title = clean_title(raw.title)
    if raw.reason is not None:
        return Extracted(
            text="", title=title, metadata_only_reason=raw.reason, detected_encoding=raw.encoding
        )
    body = normalise(raw.text)
    if not body:
        return Extracted(
            text="",
            title=title,
            metadata_only_reason="document has no text",
            detected_encoding=raw.encoding,
        )
    kept, dropped = truncate(body, max_chars)
    return Extracted(
        text=kept, title=title, truncated_chars=dropped, detected_encoding=raw.encoding
    )


def _decode_and_parse(kind: Kind, label: str, content: bytes, content_type: str | None) -> Raw:
    decoded = decode(content, declared_charsets(kind, content, content_type))
    if decoded is None:
        return Raw("", reason=f"{label} content could not be decoded as text (binary data?)")
    text, encoding = decoded
    return _parse_text(kind, text, encoding)


def _parse_text(kind: Kind, text: str, encoding: str | None) -> Raw:
    parser = _TEXT_PARSERS.get(kind, _plain)
    body, title = parser(text)
    return Raw(body, title, None, encoding)


def _plain(text: str) -> tuple[str, str | None]:
    return text, None


_TEXT_PARSERS: dict[Kind, Callable[[str], tuple[str, str | None]]] = {
    "text": _plain,
    "markdown": parse_markdown,
    "html": parse_html,
    "xml": parse_xml,
    "csv": parse_csv,
    "tsv": parse_tsv,
    "json": parse_json,
}

_BINARY_PARSERS: dict[Kind, Callable[[bytes], Raw]] = {
    "pdf": parse_pdf,
    "docx": parse_docx,
    "xlsx": parse_xlsx,
    "pptx": parse_pptx,
}
