"""Decoding text bytes: BOM, declared charset, UTF-8, Windows-1252, then detection."""

from __future__ import annotations

import codecs
import re

from search.extract.detect import SNIFF_BYTES
from search.extract.model import Kind

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET_RE = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_XML_ENCODING_RE = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_.:-]+)", re.I)
_CHARSET_PARAM_RE = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_WINDOWS_1252_ALIASES = frozenset({"iso8859-1", "ascii"})
_WESTERN_RE = re.compile(
    "[^\x00-\x7f\u00a0-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
_SYMBOL_IN_WORD_RE = re.compile(
    "[A-Za-z\u00c0-\u00ff][\u00a1-\u00bf\u00d7\u00f7][A-Za-z\u00c0-\u00ff]"
)


def declared_charsets(kind: Kind, content: bytes, content_type: str | None) -> list[str]:
    declared: list[str] = []
    match = _CHARSET_PARAM_RE.search(content_type or "")
    if match:
        declared.append(match.group(1))
    if kind in ("html", "xml"):
        head = content[:SNIFF_BYTES]
        for pattern in (_META_CHARSET_RE, _XML_ENCODING_RE):
            found = pattern.search(head)
            # A label readable as ASCII cannot be telling the truth about UTF-16 or UTF-32.
            if found and not found.group(1).lower().startswith((b"utf-16", b"utf-32")):
                declared.append(found.group(1).decode("ascii"))
    return declared


def decode(content: bytes, declared: list[str]) -> tuple[str, str] | None:
    """Decode text bytes; return ``(text, codec name)`` or None when they look binary."""
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return content.decode(codec, "replace"), codec
    for name in declared:
        decoded = _decode_declared(content, name)
        if decoded is not None:
            return decoded
    utf8 = _decode_utf8(content)
    if utf8 is not None:
        return utf8, "utf-8"
    western = _decode_western(content)
    if western is not None:
        return western, "cp1252"
    return _decode_detected(content)


def _decode_declared(content: bytes, name: str) -> tuple[str, str] | None:
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    candidates = ["cp1252", codec] if codec in _WINDOWS_1252_ALIASES else [codec]
    for candidate in candidates:
        try:
            return content.decode(candidate), candidate
        except (UnicodeError, LookupError):  # LookupError: base64 and the like are not text
            continue
    return None


def _decode_utf8(content: bytes) -> str | None:
    """Strict UTF-8, tolerating a character cut in half at the end by a size limit."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(content) - 3 and exc.reason == "unexpected end of data":
            return content[: exc.start].decode("utf-8")
        return None


def _decode_western(content: bytes) -> str | None:
    """Windows-1252, only when the result reads like a Latin-script Western language."""
    try:
        text = content.decode("cp1252")
    except UnicodeDecodeError:
        return None
    if _WESTERN_RE.search(text) or _SYMBOL_IN_WORD_RE.search(text):
        return None
    letters = sum(ch.isalpha() for ch in text)
    accented = sum(ch.isalpha() and not ch.isascii() for ch in text)
    return text if accented <= 0.3 * letters else None


def _decode_detected(content: bytes) -> tuple[str, str] | None:
    from charset_normalizer import from_bytes

    best = from_bytes(content).best()
    if best is None:
        return None
    codec = codecs.lookup(best.encoding).name
    return content.decode(codec, "replace"), codec
