"""Text extraction, the first stage of ingestion: raw bytes or text in, plain text out.

``extract`` never raises for bad input. A document whose text cannot be had (an image, an
unsupported or corrupt file, an encrypted PDF) comes back with empty ``text`` and a
``metadata_only_reason``, so the pipeline still indexes its title and attributes and the
operator can see why its body is missing. Third-party parsers are fed untrusted bytes and fail
in many ways, so each is called behind one ``except Exception`` that turns the failure into
that reason; errors in Quarry's own code outside those boundaries still raise.

Choices:

* The type comes from ``content_type`` when it names a format, else from the file extension,
  else from magic bytes. ``text/plain`` and ``application/octet-stream`` are treated as
  "unknown" because servers use them as defaults for Markdown, CSV, JSON and mislabelled PDFs.
* When both ``text`` and ``content`` are given, a non-blank ``text`` wins: it is what the
  connector already decoded. Markup (HTML, Markdown, CSV, JSON, XML) in ``text`` is still stripped.
* Decoding order: byte-order mark, then a declared charset (``content_type``, then an HTML
  meta tag or XML declaration) when it decodes cleanly, then strict UTF-8, then Windows-1252
  when the result looks like Western European text, then charset-normalizer. The Western
  check exists because charset-normalizer often names an exotic code page for short French or
  German text. ISO-8859-1 and ASCII labels are read as Windows-1252, as browsers do.
* Whitespace is normalised (runs of spaces collapse, paragraph breaks survive as one blank
  line, a tab separating table cells survives as one tab); control characters, NULs, lone
  surrogates, BOMs, soft hyphens and zero-width spaces are removed.
* ``max_chars`` bounds the normalised text; the cut falls on a word boundary, so
  ``len(text) + truncated_chars`` is always the length of the full normalised text.
* JSON keeps string and number values as ``key: value`` lines (the nearest key only, so deep
  paths cannot make lines unbounded); booleans and nulls are dropped as noise.
* XLSX and PPTX are read directly as zip + XML (cell values incl. numbers; slide text without
  speaker notes); ZIP archives whose declared uncompressed size is huge are refused.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import Any, Literal, NamedTuple

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


class _Detected(NamedTuple):
    kind: Kind
    label: str
    """How the type was named (MIME type, extension or sniffed format), for reasons."""


class _Raw(NamedTuple):
    """A parser's result before normalisation and truncation."""

    text: str
    title: str | None = None
    reason: str | None = None
    encoding: str | None = None


_TEXTUAL: frozenset[Kind] = frozenset({"text", "markdown", "html", "xml", "csv", "tsv", "json"})
_MAX_TITLE_CHARS = 500
_MAX_WORD_CHARS = 100
_MAX_UNZIPPED_BYTES = 256 * 1024 * 1024
_SNIFF_BYTES = 4096


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
) -> _Raw:
    if text is not None and (text.strip() or content is None):
        head = text[:_SNIFF_BYTES].encode("utf-8", "replace")
        detected = _detect_kind(content_type, filename, head)
        kind = detected.kind if detected.kind in _TEXTUAL else "text"
        return _parse_text(kind, text, None)
    if content is None:
        return _Raw("", reason="no content was supplied")
    detected = _detect_kind(content_type, filename, content)
    if detected.kind in _TEXTUAL:
        return _decode_and_parse(detected.kind, detected.label, content, content_type)
    if detected.kind == "image":
        return _Raw("", reason=f"image ({detected.label}) has no extractable text")
    if detected.kind == "unsupported":
        return _Raw("", reason=f"unsupported content type: {detected.label}")
    return _BINARY_PARSERS[detected.kind](content)


def _finish(raw: _Raw, max_chars: int) -> Extracted:
    title = _clean_title(raw.title)
    if raw.reason is not None:
        return Extracted(
            text="", title=title, metadata_only_reason=raw.reason, detected_encoding=raw.encoding
        )
    body = _normalise(raw.text)
    if not body:
        return Extracted(
            text="",
            title=title,
            metadata_only_reason="document has no text",
            detected_encoding=raw.encoding,
        )
    kept, dropped = _truncate(body, max_chars)
    return Extracted(
        text=kept, title=title, truncated_chars=dropped, detected_encoding=raw.encoding
    )


def _clean_title(title: str | None) -> str | None:
    if title is None:
        return None
    flat = " ".join(_normalise(title).split())
    return _truncate(flat, _MAX_TITLE_CHARS)[0] or None


# --- whitespace and size -------------------------------------------------------------------

_NEWLINE_RE = re.compile(r"\r\n?|[\x0b\x85\u2028]")
_PARAGRAPH_SEP_RE = re.compile(r"[\x0c\u2029]")
_JUNK_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u200b\ufeff\ud800-\udfff]")
_HSPACE_RE = re.compile(r"[^\S\n]{2,}|[^\S \n]")  # single spaces need no callback
_LINE_EDGE_RE = re.compile(r"[ \t]*\n[ \t]*")
_BLANK_LINES_RE = re.compile(r"\n{3,}")


def _normalise(text: str) -> str:
    """Collapse spaces, keep paragraph breaks (one blank line) and drop control characters."""
    text = _NEWLINE_RE.sub("\n", text)
    text = _PARAGRAPH_SEP_RE.sub("\n\n", text)
    text = _JUNK_RE.sub("", text)
    text = _HSPACE_RE.sub(lambda m: "\t" if "\t" in m.group() else " ", text)
    text = _LINE_EDGE_RE.sub("\n", text)
    text = _BLANK_LINES_RE.sub("\n\n", text)
    return text.strip()


def _truncate(text: str, max_chars: int) -> tuple[str, int]:
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


# --- type detection ------------------------------------------------------------------------

_GENERIC_MIMES = frozenset(
    {
        "",
        "text/plain",
        "application/octet-stream",
        "binary/octet-stream",
        "application/binary",
        "application/unknown",
        "application/download",
        "application/x-download",
        "application/force-download",
        "application/zip",
        "application/x-zip-compressed",
    }
)

_MIME_KINDS: dict[str, Kind] = {
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/xml": "xml",
    "application/xml": "xml",
    "text/csv": "csv",
    "text/x-csv": "csv",
    "application/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "text/json": "json",
    "application/x-ndjson": "json",
    "application/jsonl": "json",
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/javascript": "text",
    "application/x-sh": "text",
    "application/x-yaml": "text",
    "application/yaml": "text",
    "application/toml": "text",
    "application/sql": "text",
}

_EXTENSION_KINDS: dict[str, Kind] = {
    **dict.fromkeys(("txt", "text", "log", "rst"), "text"),
    **dict.fromkeys(("md", "markdown", "mdown", "mkd"), "markdown"),
    **dict.fromkeys(("html", "htm", "xhtml"), "html"),
    "xml": "xml",
    "csv": "csv",
    **dict.fromkeys(("tsv", "tab"), "tsv"),
    **dict.fromkeys(("json", "jsonl", "ndjson"), "json"),
    "pdf": "pdf",
    "docx": "docx",
    "xlsx": "xlsx",
    "pptx": "pptx",
    **dict.fromkeys(
        ("png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp", "svg", "ico", "heic"),
        "image",
    ),
    **dict.fromkeys(
        ("doc", "xls", "ppt", "odt", "ods", "odp", "rtf", "zip", "gz", "tgz", "7z", "rar"),
        "unsupported",
    ),
    **dict.fromkeys(("exe", "dll", "so", "bin", "iso", "mp3", "mp4", "mov", "avi"), "unsupported"),
}

_MAGIC: tuple[tuple[bytes, Kind, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image", "PNG image"),
    (b"\xff\xd8\xff", "image", "JPEG image"),
    (b"GIF87a", "image", "GIF image"),
    (b"GIF89a", "image", "GIF image"),
    (b"II*\x00", "image", "TIFF image"),
    (b"MM\x00*", "image", "TIFF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "unsupported", "legacy Microsoft Office file"),
    (b"\x1f\x8b", "unsupported", "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "unsupported", "7-Zip archive"),
    (b"Rar!\x1a\x07", "unsupported", "RAR archive"),
    (b"\x7fELF", "unsupported", "ELF executable"),
    (b"{\\rtf", "unsupported", "RTF document"),
)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _detect_kind(content_type: str | None, filename: str | None, content: bytes) -> _Detected:
    """Decide the format: a specific MIME type, else the extension, else magic bytes."""
    mime = _mime(content_type)
    by_mime = _kind_from_mime(mime)
    if by_mime is not None:
        return _Detected(by_mime, mime)
    extension = _extension(filename)
    by_extension = _EXTENSION_KINDS.get(extension)
    if by_extension is not None:
        return _Detected(by_extension, f".{extension}")
    sniffed = _sniff(content)
    if sniffed.kind == "unsupported" and mime not in _GENERIC_MIMES:
        return _Detected("unsupported", mime)
    return sniffed


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _kind_from_mime(mime: str) -> Kind | None:
    if mime in _GENERIC_MIMES:
        return None
    if mime in _MIME_KINDS:
        return _MIME_KINDS[mime]
    major, _, minor = mime.partition("/")
    if major == "image":
        return "image"
    if major in ("audio", "video", "font"):
        return "unsupported"
    if minor.endswith("+json"):
        return "json"
    if minor.endswith("+xml"):
        return "xml"
    if major == "text":
        return "text"
    return None


def _extension(filename: str | None) -> str:
    name = posixpath.basename((filename or "").replace("\\", "/"))
    stem, dot, extension = name.rpartition(".")
    return extension.lower() if dot and stem else ""


def _sniff(content: bytes) -> _Detected:
    head = content[:_SNIFF_BYTES]
    if b"%PDF-" in head[:1024]:
        return _Detected("pdf", "PDF document")
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(content)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _Detected("image", "WebP image")
    for magic, kind, label in _MAGIC:
        if head.startswith(magic):
            return _Detected(kind, label)
    return _sniff_markup(head)


_OOXML_MAIN_PARTS: tuple[tuple[str, Kind], ...] = (
    ("word/document.xml", "docx"),
    ("xl/workbook.xml", "xlsx"),
    ("ppt/presentation.xml", "pptx"),
)


def _sniff_zip(content: bytes) -> _Detected:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except Exception:  # damaged archives raise BadZipFile, NotImplementedError, OSError, ...
        return _Detected("unsupported", "damaged ZIP archive")
    for part, kind in _OOXML_MAIN_PARTS:
        if part in names:
            return _Detected(kind, kind.upper())
    return _Detected("unsupported", "ZIP archive")


_HTML_TAG_RE = re.compile(
    rb"</(?:p|div|span|a|b|i|em|strong|li|ul|ol|table|tr|td|h[1-6]|body|section)>|<br\s*/?>", re.I
)


def _sniff_markup(head: bytes) -> _Detected:
    start = head.removeprefix(codecs.BOM_UTF8).lstrip()[:256].lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return _Detected("html", "HTML")
    if start.startswith(b"<?xml"):
        return _Detected("html", "XHTML") if b"<html" in start else _Detected("xml", "XML")
    if start.startswith((b"{", b"[")):
        return _Detected("json", "JSON")
    if start.startswith(b"<") and _HTML_TAG_RE.search(head):
        return _Detected("html", "HTML fragment")
    return _Detected("text", "text")


# --- decoding ------------------------------------------------------------------------------

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


def _decode_and_parse(kind: Kind, label: str, content: bytes, content_type: str | None) -> _Raw:
    decoded = _decode(content, _declared_charsets(kind, content, content_type))
    if decoded is None:
        return _Raw("", reason=f"{label} content could not be decoded as text (binary data?)")
    text, encoding = decoded
    return _parse_text(kind, text, encoding)


def _declared_charsets(kind: Kind, content: bytes, content_type: str | None) -> list[str]:
    declared: list[str] = []
    match = _CHARSET_PARAM_RE.search(content_type or "")
    if match:
        declared.append(match.group(1))
    if kind in ("html", "xml"):
        head = content[:_SNIFF_BYTES]
        for pattern in (_META_CHARSET_RE, _XML_ENCODING_RE):
            found = pattern.search(head)
            # A label readable as ASCII cannot be telling the truth about UTF-16 or UTF-32.
            if found and not found.group(1).lower().startswith((b"utf-16", b"utf-32")):
                declared.append(found.group(1).decode("ascii"))
    return declared


def _decode(content: bytes, declared: list[str]) -> tuple[str, str] | None:
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


# --- textual formats -----------------------------------------------------------------------


def _parse_text(kind: Kind, text: str, encoding: str | None) -> _Raw:
    parser = _TEXT_PARSERS.get(kind, _plain)
    body, title = parser(text)
    return _Raw(body, title, None, encoding)


def _plain(text: str) -> tuple[str, str | None]:
    return text, None


# HTML


_DROPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "svg", "canvas", "iframe", "object"}
)
_PARAGRAPH_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "details", "dialog",
        "div", "dl", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
        "h4", "h5", "h6", "header", "hr", "html", "main", "nav", "ol", "p", "pre", "section",
        "summary", "table", "ul",
    }
)  # fmt: skip
_LINE_TAGS = frozenset({"li", "dt", "dd", "tr", "option", "br"})
_CELL_TAGS = frozenset({"td", "th"})
_PREFORMATTED_TAGS = frozenset({"pre", "textarea", "listing", "plaintext"})
_WHITESPACE_RE = re.compile(r"\s+")


def _html(markup: str) -> tuple[str, str | None]:
    from bs4 import BeautifulSoup

    try:
        soup = BeautifulSoup(markup, "lxml")
    except Exception:  # the parser's own failure: index the text with its tags cut out
        return _TAG_RE.sub(" ", markup), None
    title = _html_title(soup)
    return "".join(_html_pieces(soup)), title


def _html_title(soup: Any) -> str | None:
    for tag in soup.find_all("title"):
        if tag.find_parent("svg") is None and tag.get_text(strip=True):
            return str(tag.get_text())
    heading = soup.find("h1")
    return str(heading.get_text(" ")) if heading is not None else None


def _html_pieces(root: Any) -> Iterator[str]:
    """Walk the tree with an explicit stack (deep nesting cannot overflow recursion)."""
    from bs4.element import CData, NavigableString, Tag

    stack: list[tuple[Any, bool]] = [(root, False)]
    preformatted = 0
    while stack:
        node, closing = stack.pop()
        if isinstance(node, Tag):
            name = node.name
            if closing:
                preformatted -= name in _PREFORMATTED_TAGS
                yield _html_after(name)
            elif name not in _DROPPED_TAGS:
                preformatted += name in _PREFORMATTED_TAGS
                yield "\n\n" if name in _PARAGRAPH_TAGS else ""
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(node.contents))
        elif type(node) in (NavigableString, CData):
            yield str(node) if preformatted else _WHITESPACE_RE.sub(" ", node)


def _html_after(name: str) -> str:
    if name in _PARAGRAPH_TAGS:
        return "\n\n"
    if name in _LINE_TAGS:
        return "\n"
    return "\t" if name in _CELL_TAGS else ""


# XML

_XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*\?>")
_TAG_RE = re.compile(r"<[^<>]{0,1000}>")


def _xml(markup: str) -> tuple[str, str | None]:
    from lxml import etree  # type: ignore[import-untyped]  # no stubs installed

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, recover=True, huge_tree=False
    )
    try:
        root = etree.fromstring(_XML_DECLARATION_RE.sub("", markup, count=1), parser)
    except Exception:  # the parser's own failure, e.g. XMLSyntaxError
        root = None
    if root is None:
        return _TAG_RE.sub(" ", markup), None
    if etree.QName(root).localname.lower() == "html":
        return _html(markup)
    return "\n".join(part.strip() for part in _xml_texts(root) if part.strip()), None


def _xml_texts(root: Any) -> Iterator[str]:
    """Element text and every node's tail; comments, PIs and unexpanded entities are skipped."""
    for node in root.iter():
        if isinstance(node.tag, str) and node.text:
            yield node.text
        if node is not root and node.tail:
            yield node.tail


# Markdown

_FRONT_MATTER_RE = re.compile(r"\A---\n(.*?)\n(?:---|\.\.\.)\n", re.S)
_FRONT_TITLE_RE = re.compile(r"^title:\s*[\"']?(.*?)[\"']?\s*$", re.M)
_FENCE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_ATX_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}(?:\s|$)")
_SETEXT_RULE_RE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_THEMATIC_BREAK_RE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_TABLE_RULE_RE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_LINK_DEFINITION_RE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+.*$")
_BLOCK_PREFIX_RE = re.compile(r"^\s*(?:>\s?)*(?:(?:[-*+]|\d{1,9}[.)])\s+(?:\[[ xX]\]\s+)?)?")
# Every repetition is bounded: unbounded lazy spans make a long line of stray "*" or "["
# quadratic. Inline constructs longer than these bounds are left as they are.
_CODE_SPAN_RE = re.compile(r"(`{1,8})(.{1,500}?)\1")
_INLINE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"!\[([^\]]{0,300})\]\([^)]{0,500}\)"), r"\1"),
    (re.compile(r"\[([^\]]{1,300})\]\([^)]{0,500}\)"), r"\1"),
    (re.compile(r"\[([^\]]{1,300})\]\[[^\]]{0,100}\]"), r"\1"),
    (re.compile(r"<((?:https?|mailto):[^>\s]{1,500})>"), r"\1"),
    (re.compile(r"</?[A-Za-z][A-Za-z0-9-]{0,30}(?:\s[^<>]{0,500})?/?>"), ""),
    (re.compile(r"(\*\*|__)(?=\S)(.{1,300}?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.{1,300}?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<!\w)_(?=\S)(.{1,300}?)(?<=\S)_(?!\w)"), r"\1"),
    (re.compile(r"~~(?=\S)(.{1,300}?)(?<=\S)~~"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~>])"), r"\1"),
)


def _markdown(source: str) -> tuple[str, str | None]:
    source = _NEWLINE_RE.sub("\n", source)
    title: str | None = None
    front = _FRONT_MATTER_RE.match(source)
    if front:
        found = _FRONT_TITLE_RE.search(front.group(1))
        title = found.group(1) if found else None
        source = source[front.end() :]
    lines, heading = _markdown_lines(source.split("\n"))
    return "\n".join(lines), title or heading


def _markdown_lines(lines: list[str]) -> tuple[list[str], str | None]:
    """Strip block markup line by line; fenced code is kept verbatim."""
    out: list[str] = []
    first_heading: str | None = None
    fence: str | None = None
    for line in lines:
        opening = _FENCE_RE.match(line)
        if opening and (fence is None or opening.group(1).startswith(fence)):
            fence = None if fence is not None else opening.group(1)[:3]
            continue
        if fence is not None:
            out.append(line)
            continue
        if _SETEXT_RULE_RE.match(line) and out and out[-1].strip():
            first_heading = first_heading or out[-1]
            out.append("")
            continue
        text, heading = _markdown_block(line)
        if heading is not None:
            first_heading = first_heading or heading
        if text is not None:
            out.append(text)
    return out, first_heading


def _markdown_block(line: str) -> tuple[str | None, str | None]:
    """One line without its block markup (None: drop the line) and the heading it makes."""
    heading = _ATX_HEADING_RE.match(line)
    if heading:
        text = _markdown_inline(_without_closing_hashes(line[heading.end() :].strip()))
        return text, text or None
    if _THEMATIC_BREAK_RE.match(line):
        return "", None
    if _TABLE_RULE_RE.match(line) or _LINK_DEFINITION_RE.match(line):
        return None, None
    line = _BLOCK_PREFIX_RE.sub("", line)
    if line.lstrip().startswith("|"):
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        line = "\t".join(cells)
    return _markdown_inline(line), None


def _without_closing_hashes(heading: str) -> str:
    """``Title ##`` -> ``Title`` (string operations: a regex here backtracks on long lines)."""
    bare = heading.rstrip("#")
    if bare == heading or (bare and not bare[-1].isspace()):
        return heading
    return bare.rstrip()


def _markdown_inline(text: str) -> str:
    """Unwrap links and emphasis outside code spans; code span content stays verbatim."""
    parts = _CODE_SPAN_RE.split(text)  # [prose, ticks, code, prose, ticks, code, ..., prose]
    for index in range(0, len(parts), 3):
        for pattern, replacement in _INLINE_RULES:
            parts[index] = pattern.sub(replacement, parts[index])
    return "".join(part for index, part in enumerate(parts) if index % 3 != 1)


# CSV

_CSV_SAMPLE_CHARS = 4096  # the sniffer backtracks: a bigger sample costs quadratically
_CSV_DELIMITERS = ",;\t|"


def _csv(text: str) -> tuple[str, str | None]:
    return _delimited(text, None), None


def _tsv(text: str) -> tuple[str, str | None]:
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


def _json(text: str) -> tuple[str, str | None]:
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


_TEXT_PARSERS: dict[Kind, Callable[[str], tuple[str, str | None]]] = {
    "text": _plain,
    "markdown": _markdown,
    "html": _html,
    "xml": _xml,
    "csv": _csv,
    "tsv": _tsv,
    "json": _json,
}


# --- binary formats ------------------------------------------------------------------------


def _failure(what: str, exc: BaseException) -> _Raw:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    detail = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return _Raw("", reason=f"{what} could not be parsed: {detail[:200]}")


# PDF


def _pdf(content: bytes) -> _Raw:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted and not _pdf_unlock(reader):
            return _Raw("", reason="PDF is encrypted and needs a password")
        title = _pdf_title(reader)
        page_count = len(reader.pages)
    except Exception as exc:
        return _failure("PDF", exc)
    texts: list[str] = []
    first_error: Exception | None = None
    for number in range(page_count):  # one broken page must not lose the others
        try:
            texts.append(reader.pages[number].extract_text() or "")
        except Exception as exc:
            first_error = first_error or exc
    body = "\n\n".join(texts)
    if body.strip():
        return _Raw(body, title)
    if first_error is not None:
        return _failure("PDF", first_error)
    return _Raw("", title, reason="PDF has no extractable text (scanned or image-only)")


def _pdf_unlock(reader: Any) -> bool:
    """Open PDFs that are encrypted only against editing (empty user password)."""
    from pypdf import PasswordType

    try:
        return bool(reader.decrypt("") != PasswordType.NOT_DECRYPTED)
    except Exception:
        return False


def _pdf_title(reader: Any) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata is not None else None
    except Exception:
        return None
    return str(title) if isinstance(title, str) else None


# Office Open XML (DOCX, XLSX, PPTX)

_OOXML_NS = {
    "x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "p": "http://schemas.openxmlformats.org/presentationml/2006/main",
    "dc": "http://purl.org/dc/elements/1.1/",
}


class _TooLarge(Exception):
    """A ZIP container that would expand beyond what Quarry is willing to read."""


def _open_zip(content: bytes) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(content))
    if sum(info.file_size for info in archive.infolist()) > _MAX_UNZIPPED_BYTES:
        archive.close()
        raise _TooLarge(f"expands to more than {_MAX_UNZIPPED_BYTES} bytes")
    return archive


def _docx(content: bytes) -> _Raw:
    import docx

    try:
        _open_zip(content).close()
        document = docx.Document(io.BytesIO(content))
        lines = list(_docx_blocks(document.iter_inner_content(), depth=0))
        title = document.core_properties.title or _docx_title_paragraph(document)
    except Exception as exc:
        return _failure("DOCX", exc)
    return _Raw("\n\n".join(lines), title or None)


def _docx_blocks(blocks: Iterator[Any], depth: int) -> Iterator[str]:
    """Paragraphs, and tables as one line per row, in document order."""
    from docx.table import Table

    for block in blocks:
        if isinstance(block, Table):
            yield "\n".join("\t".join(_docx_row_cells(row, depth)) for row in block.rows)
        else:
            yield block.text


def _docx_row_cells(row: Any, depth: int) -> Iterator[str]:
    """Each distinct cell once (a merged cell is returned once per grid column it spans)."""
    seen: list[Any] = []  # the XML elements themselves: ids of freed proxies could be reused
    for cell in row.cells:
        if any(cell._tc is element for element in seen):
            continue
        seen.append(cell._tc)
        if depth < 8:  # nested tables, to a sane depth
            yield " ".join(_docx_blocks(cell.iter_inner_content(), depth + 1))
        else:
            yield cell.text


def _docx_title_paragraph(document: Any) -> str | None:
    for paragraph in document.paragraphs[:20]:
        if paragraph.style is not None and paragraph.style.name == "Title":
            return str(paragraph.text)
    return None


def _xlsx(content: bytes) -> _Raw:
    try:
        with _open_zip(content) as archive:
            shared = _xlsx_shared_strings(archive)
            sheets = _ordered_parts(archive, "xl/workbook.xml", "x:sheets/x:sheet")
            blocks = [_xlsx_sheet(archive, part, name, shared) for part, name in sheets]
            title = _core_title(archive)
    except Exception as exc:
        return _failure("XLSX", exc)
    return _Raw("\n\n".join(blocks), title)


def _xlsx_shared_strings(archive: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    root = _read_xml(archive, "xl/sharedStrings.xml")
    return [
        "".join(item.xpath(".//x:t[not(ancestor::x:rPh)]/text()", namespaces=_OOXML_NS))
        for item in root.iterfind("x:si", _OOXML_NS)
    ]


def _xlsx_sheet(archive: zipfile.ZipFile, part: str, name: str, shared: list[str]) -> str:
    root = _read_xml(archive, part)
    lines = [name]
    for row in root.iterfind("x:sheetData/x:row", _OOXML_NS):
        values = (_xlsx_cell(cell, shared) for cell in row.iterfind("x:c", _OOXML_NS))
        lines.append("\t".join(value for value in values if value))
    return "\n".join(lines)


def _xlsx_cell(cell: Any, shared: list[str]) -> str:
    kind = cell.get("t")
    if kind == "inlineStr":
        return "".join(cell.xpath("x:is//x:t/text()", namespaces=_OOXML_NS))
    value = cell.findtext("x:v", default="", namespaces=_OOXML_NS).strip()
    if kind == "s":
        index = int(value) if value.isdigit() else -1
        return shared[index] if 0 <= index < len(shared) else ""
    return "" if kind == "b" else value


def _pptx(content: bytes) -> _Raw:
    try:
        with _open_zip(content) as archive:
            slides = _ordered_parts(archive, "ppt/presentation.xml", "p:sldIdLst/p:sldId")
            blocks = [_pptx_slide(archive, part) for part, _ in slides]
            title = _core_title(archive)
    except Exception as exc:
        return _failure("PPTX", exc)
    return _Raw("\n\n".join(blocks), title)


def _pptx_slide(archive: zipfile.ZipFile, part: str) -> str:
    root = _read_xml(archive, part)
    paragraphs = root.iterfind(".//a:p", _OOXML_NS)
    return "\n".join("".join(p.xpath(".//a:t/text()", namespaces=_OOXML_NS)) for p in paragraphs)


def _ordered_parts(archive: zipfile.ZipFile, main: str, path: str) -> list[tuple[str, str]]:
    """The parts that ``main`` lists at ``path`` (sheets, slides), in its order, with names."""
    folder, base = posixpath.split(main)
    rels_root = _read_xml(archive, f"{folder}/_rels/{base}.rels")
    targets = {
        rel.get("Id"): rel.get("Target", "")
        for rel in rels_root.iterfind("rel:Relationship", _OOXML_NS)
    }
    parts: list[tuple[str, str]] = []
    for entry in _read_xml(archive, main).iterfind(path, _OOXML_NS):
        target = targets.get(entry.get(f"{{{_OOXML_NS['r']}}}id"))
        if target:
            resolved = target.lstrip("/") if target.startswith("/") else f"{folder}/{target}"
            parts.append((posixpath.normpath(resolved), entry.get("name", "")))
    return parts


def _core_title(archive: zipfile.ZipFile) -> str | None:
    if "docProps/core.xml" not in archive.namelist():
        return None
    title = _read_xml(archive, "docProps/core.xml").findtext("dc:title", namespaces=_OOXML_NS)
    return title or None


def _read_xml(archive: zipfile.ZipFile, part: str) -> Any:
    from lxml import etree  # type: ignore[import-untyped]  # no stubs installed

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(archive.read(part), parser)


_BINARY_PARSERS: dict[Kind, Callable[[bytes], _Raw]] = {
    "pdf": _pdf,
    "docx": _docx,
    "xlsx": _xlsx,
    "pptx": _pptx,
}
