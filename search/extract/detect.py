"""Type detection: a specific MIME type, else the file extension, else magic bytes."""

from __future__ import annotations

import codecs
import io
import posixpath
import re
import zipfile

from search.extract.model import Detected, Kind

SNIFF_BYTES = 4096

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


def detect_kind(content_type: str | None, filename: str | None, content: bytes) -> Detected:
    """Decide the format: a specific MIME type, else the extension, else magic bytes."""
    mime = _mime(content_type)
    by_mime = _kind_from_mime(mime)
    if by_mime is not None:
        return Detected(by_mime, mime)
    extension = _extension(filename)
    by_extension = _EXTENSION_KINDS.get(extension)
    if by_extension is not None:
        return Detected(by_extension, f".{extension}")
    sniffed = _sniff(content)
    if sniffed.kind == "unsupported" and mime not in _GENERIC_MIMES:
        return Detected("unsupported", mime)
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


def _sniff(content: bytes) -> Detected:
    head = content[:SNIFF_BYTES]
    if b"%PDF-" in head[:1024]:
        return Detected("pdf", "PDF document")
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(content)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return Detected("image", "WebP image")
    for magic, kind, label in _MAGIC:
        if head.startswith(magic):
            return Detected(kind, label)
    return _sniff_markup(head)


_OOXML_MAIN_PARTS: tuple[tuple[str, Kind], ...] = (
    ("word/document.xml", "docx"),
    ("xl/workbook.xml", "xlsx"),
    ("ppt/presentation.xml", "pptx"),
)


def _sniff_zip(content: bytes) -> Detected:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except Exception:  # damaged archives raise BadZipFile, NotImplementedError, OSError, ...
        return Detected("unsupported", "damaged ZIP archive")
    for part, kind in _OOXML_MAIN_PARTS:
        if part in names:
            return Detected(kind, kind.upper())
    return Detected("unsupported", "ZIP archive")


_HTML_TAG_RE = re.compile(
    rb"</(?:p|div|span|a|b|i|em|strong|li|ul|ol|table|tr|td|h[1-6]|body|section)>|<br\s*/?>", re.I
)


def _sniff_markup(head: bytes) -> Detected:
    start = head.removeprefix(codecs.BOM_UTF8).lstrip()[:256].lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return Detected("html", "HTML")
    if start.startswith(b"<?xml"):
        return Detected("html", "XHTML") if b"<html" in start else Detected("xml", "XML")
    if start.startswith((b"{", b"[")):
        return Detected("json", "JSON")
    if start.startswith(b"<") and _HTML_TAG_RE.search(head):
        return Detected("html", "HTML fragment")
    return Detected("text", "text")
