"""Binary documents: PDF (pypdf), DOCX (python-docx), XLSX and PPTX (zip + XML)."""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator
from typing import Any

from search.extract.model import Raw

_MAX_UNZIPPED_BYTES = 256 * 1024 * 1024


def _failure(what: str, exc: BaseException) -> Raw:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    detail = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return Raw("", reason=f"{what} could not be parsed: {detail[:200]}")


# PDF


def parse_pdf(content: bytes) -> Raw:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted and not _pdf_unlock(reader):
            return Raw("", reason="PDF is encrypted and needs a password")
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
        return Raw(body, title)
    if first_error is not None:
        return _failure("PDF", first_error)
    return Raw("", title, reason="PDF has no extractable text (scanned or image-only)")


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


def parse_docx(content: bytes) -> Raw:
    import docx

    try:
        _open_zip(content).close()
        document = docx.Document(io.BytesIO(content))
        lines = list(_docx_blocks(document.iter_inner_content(), depth=0))
        title = document.core_properties.title or _docx_title_paragraph(document)
    except Exception as exc:
        return _failure("DOCX", exc)
    return Raw("\n\n".join(lines), title or None)


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


def parse_xlsx(content: bytes) -> Raw:
    try:
        with _open_zip(content) as archive:
            shared = _xlsx_shared_strings(archive)
            sheets = _ordered_parts(archive, "xl/workbook.xml", "x:sheets/x:sheet")
            blocks = [_xlsx_sheet(archive, part, name, shared) for part, name in sheets]
            title = _core_title(archive)
    except Exception as exc:
        return _failure("XLSX", exc)
    return Raw("\n\n".join(blocks), title)


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


def parse_pptx(content: bytes) -> Raw:
    try:
        with _open_zip(content) as archive:
            slides = _ordered_parts(archive, "ppt/presentation.xml", "p:sldIdLst/p:sldId")
            blocks = [_pptx_slide(archive, part) for part, _ in slides]
            title = _core_title(archive)
    except Exception as exc:
        return _failure("PPTX", exc)
    return Raw("\n\n".join(blocks), title)


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
