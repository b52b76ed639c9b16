"""Real, small files in the formats a crawler must extract: PDF, DOCX, PNG and text kinds.

Byte-for-byte deterministic (fixed dates inside the DOCX and its zip entries) so a seed
always produces the same sizes and checksums. The PDF is hand-written but valid, with a
real text layer; the DOCX comes from python-docx.
"""

from __future__ import annotations

import functools
import io
import json
import struct
import textwrap
import zipfile
import zlib
from datetime import UTC, datetime
from typing import Final

from devtools.alfresco_sim.content_model import DOCX_MIME

FIXED_DATE: Final = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

EXTENSIONS: Final[dict[str, str]] = {
    "txt": "text/plain",
    "md": "text/markdown",
    "html": "text/html",
    "csv": "text/csv",
    "json": "application/json",
    "pdf": "application/pdf",
    "docx": DOCX_MIME,
    "png": "image/png",
}


def render_file(extension: str, title: str, text: str, author: str) -> bytes:
    """The bytes of a document of the given kind carrying ``title`` and ``text``."""
    sentences = [s.strip() + "." for s in text.split(".") if s.strip()]
    if extension == "txt":
        return f"{title}\n\n{text}\n".encode()
    if extension == "md":
        bullets = "\n".join(f"- {s}" for s in sentences[1:])
        return f"# {title}\n\n{sentences[0]}\n\n{bullets}\n".encode()
    if extension == "html":
        paragraphs = "".join(f"<p>{s}</p>" for s in sentences)
        return (
            '<!DOCTYPE html><html><head><meta charset="utf-8">'
            f"<title>{title}</title></head><body><h1>{title}</h1>{paragraphs}</body></html>"
        ).encode()
    if extension == "csv":
        rows = "".join(f'{i},"{s}"\r\n' for i, s in enumerate(sentences, start=1))
        return f"line,statement\r\n{rows}".encode()
    if extension == "json":
        payload = {"title": title, "author": author, "statements": sentences}
        return json.dumps(payload, indent=2, ensure_ascii=False).encode()
    if extension == "pdf":
        return pdf_document(title, text)
    if extension == "docx":
        return docx_document(title, tuple(sentences), author)
    if extension == "png":
        return png_image(48, 32, seed=len(title))
    raise ValueError(f"unsupported extension {extension}")


def _pdf_string(value: str) -> bytes:
    raw = value.encode("latin-1", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf_document(title: str, text: str) -> bytes:
    """A one-page PDF 1.4 with a Helvetica text layer that pypdf and pdfminer can read."""
    lines = [title, "", *textwrap.wrap(text, width=85)]
    ops = [b"BT", b"/F1 11 Tf", b"14 TL", b"72 740 Td"]
    for line in lines:
        ops.append(_pdf_string(line) + b" Tj T*")
    ops.append(b"ET")
    stream = b"\n".join(ops)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Title " + _pdf_string(title) + b" /Producer (Quarry Alfresco simulator) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


@functools.lru_cache(maxsize=512)
def docx_document(title: str, paragraphs: tuple[str, ...], author: str) -> bytes:
    """A Word document made by python-docx, repacked with fixed zip timestamps (cached:
    python-docx is the slow part of generating a repository)."""
    from docx import Document  # heavy import, needed only while generating

    document = Document()
    properties = document.core_properties
    properties.title = title
    properties.author = author
    properties.last_modified_by = author
    properties.created = FIXED_DATE.replace(tzinfo=None)
    properties.modified = FIXED_DATE.replace(tzinfo=None)
    properties.revision = 1
    document.add_heading(title, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return _repack_zip(buffer.getvalue())


def _repack_zip(data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as target:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(2026, 1, 5, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(item.filename))
    return output.getvalue()


def png_image(width: int, height: int, *, seed: int) -> bytes:
    """An RGB gradient PNG: an image with no text in it at all."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes(((x * 5 + seed * 17) % 256, (y * 7 + seed) % 256, (x + y) * 3 % 256))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )
