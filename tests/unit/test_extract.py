"""Extraction: every format from real bytes built here, encodings, limits and bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.extract import Extracted, extract

LIMIT = 100_000


def run(content: bytes | None, content_type: str | None = None, filename: str | None = None,
        max_chars: int = LIMIT, text: str | None = None) -> Extracted:  # fmt: skip
    return extract(content, text, content_type, filename, max_chars)


# --- builders for real files ---------------------------------------------------------------


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1") + b")"


def make_pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A valid PDF with one Helvetica text line per string; xref offsets computed exactly."""
    page_ids = [4 + 2 * i for i in range(len(pages))]
    info_id = 4 + 2 * len(pages)
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % i for i in page_ids)
        + b"] /Count %d >>" % len(pages),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }  # fmt: skip
    for page_id, lines in zip(page_ids, pages, strict=True):
        ops = [b"BT", b"/F1 12 Tf", b"14 TL", b"72 720 Td"]
        ops += [_pdf_string(line) + b" Tj T*" for line in lines]
        stream = b"\n".join([*ops, b"ET"])
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (page_id + 1)
        )
        objects[page_id + 1] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
    objects[info_id] = b"<< /Title %s >>" % _pdf_string(title) if title else b"<< >>"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offsets[n] for n in sorted(objects))
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, info_id)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def encrypt_pdf(pdf: bytes, user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_docx() -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = "Travel Policy"
    document.add_heading("Scope", level=1)
    document.add_paragraph("Employees must book flights through the portal.")
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).text = "Class"
    table.cell(0, 1).merge(table.cell(0, 2)).text = "Allowed distance"
    table.cell(1, 0).text = "Economy"
    table.cell(1, 1).text = "any"
    table.cell(1, 2).text = "always"
    document.add_paragraph("Receipts are kept for seven years.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _zip(parts: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return buffer.getvalue()


_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_SHEET = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_CORE = (
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{}</dc:title>'
    "</cp:coreProperties>"
)


def make_xlsx() -> bytes:
    """Two sheets; the workbook lists sheet2.xml first, so order must come from the rels."""
    rels = "".join(
        f'<Relationship Id="{rid}" Type="{_REL}/worksheet" Target="{target}"/>'
        for rid, target in (
            ("rId1", "worksheets/sheet1.xml"),
            ("rId2", "/xl/worksheets/sheet2.xml"),
        )
    )
    return _zip({
        "[Content_Types].xml": "<Types/>",
        "xl/workbook.xml": f'<workbook xmlns="{_SHEET}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="Summary" sheetId="2" r:id="rId2"/>'
        '<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_PKG_REL}">{rels}</Relationships>',
        "xl/sharedStrings.xml": f'<sst xmlns="{_SHEET}"><si><t>Region</t></si>'
        "<si><r><t>North</t></r><r><t>east</t></r><rPh><t>PHONETIC</t></rPh></si></sst>",
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{_SHEET}"><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>Sales</t></is>'
        '</c></row><row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2"><v>1250.5</v></c>'
        '<c r="C2" t="b"><v>1</v></c></row></sheetData></worksheet>',
        "xl/worksheets/sheet2.xml": f'<worksheet xmlns="{_SHEET}"><sheetData><row r="1">'
        '<c r="A1" t="str"><v>Total 1250.5</v></c></row></sheetData></worksheet>',
        "docProps/core.xml": _CORE.format("Regional sales"),
    })  # fmt: skip


def make_pptx() -> bytes:
    """Slides listed in reverse file order, to check the order comes from presentation.xml."""
    drawing = "http://schemas.openxmlformats.org/drawingml/2006/main"
    pml = "http://schemas.openxmlformats.org/presentationml/2006/main"

    def slide(*paragraphs: list[str]) -> str:
        body = "".join(
            "<a:p>" + "".join(f"<a:r><a:t>{run}</a:t></a:r>" for run in runs) + "</a:p>"
            for runs in paragraphs
        )
        return (f'<p:sld xmlns:p="{pml}" xmlns:a="{drawing}"><p:cSld><p:spTree><p:sp><p:txBody>'
                f"{body}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>")  # fmt: skip

    rels = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/slide" Target="slides/slide{n}.xml"/>'
        for n in (1, 2)
    )
    return _zip({
        "ppt/presentation.xml": f'<p:presentation xmlns:p="{pml}" xmlns:r="{_REL}"><p:sldIdLst>'
        '<p:sldId id="256" r:id="rId2"/><p:sldId id="257" r:id="rId1"/></p:sldIdLst>'
        "</p:presentation>",
        "ppt/_rels/presentation.xml.rels": f'<Relationships xmlns="{_PKG_REL}">{rels}'
        "</Relationships>",
        "ppt/slides/slide1.xml": slide(["Second ", "slide"], ["Revenue grew"]),
        "ppt/slides/slide2.xml": slide(["Opening slide"]),
        "docProps/core.xml": _CORE.format("Board update"),
    })  # fmt: skip


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


# --- plain text, whitespace, limits --------------------------------------------------------


def test_plain_text_is_normalised():
    raw = "Title line\r\n\r\n\r\n\r\nfirst  \u00a0 para\x00graph\x07\twith\t\ttabs "
    raw += "\n\n\fnext\u200b page"
    result = run(raw.encode(), "text/plain", "notes.txt")
    assert result.text == "Title line\n\nfirst paragraph\twith\ttabs\n\nnext page"
    assert result.metadata_only_reason is None
    assert result.detected_encoding == "utf-8"
    assert result.title is None


def test_truncation_cuts_at_a_word_boundary_and_counts_what_was_dropped():
    full = " ".join(f"word{i}" for i in range(100))
    result = run(full.encode(), max_chars=55)
    assert full.startswith(result.text)
    assert len(result.text) <= 55
    assert full[len(result.text)] == " "  # the cut never splits a word
    assert result.text == "word0 word1 word2 word3 word4 word5 word6 word7 word8"
    assert len(result.text) + result.truncated_chars == len(full)


def test_no_truncation_at_exactly_the_limit():
    full = "alpha beta gamma"
    assert run(full.encode(), max_chars=len(full)).truncated_chars == 0
    assert run(full.encode(), max_chars=len(full) - 1).text == "alpha beta"


def test_a_single_huge_token_is_cut_through():
    blob = "A" * 5000
    result = run(f"intro {blob}".encode(), max_chars=1000)
    assert len(result.text) == 1000
    assert result.truncated_chars == len(blob) + 6 - 1000


def test_negative_limit_is_a_programming_error():
    with pytest.raises(ValueError):
        run(b"x", max_chars=-1)


def test_empty_and_missing_content_are_metadata_only():
    assert run(b"   \n\t ").metadata_only_reason == "document has no text"
    assert run(None).metadata_only_reason == "no content was supplied"


def test_text_argument_wins_and_markup_in_it_is_stripped():
    result = run(b"ignored", "text/html", text="<p>Hello <b>there</b></p><script>x()</script>")
    assert result.text == "Hello there"
    assert result.detected_encoding is None


def test_blank_text_argument_does_not_hide_the_content():
    assert run(b"from the bytes", text="  ").text == "from the bytes"


def test_text_argument_for_a_binary_type_is_used_as_plain_text():
    result = run(None, "application/pdf", text="Already extracted by the connector")
    assert result.text == "Already extracted by the connector"


def test_heavy_parsers_are_imported_lazily():
    code = (
        "import sys, search.extract; "
        "print(sorted(m for m in ('pypdf', 'docx', 'bs4', 'charset_normalizer') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- encodings -----------------------------------------------------------------------------

FRENCH = "Le café était fermé. Ça m'a déçu, à vrai dire : même la crème brûlée était là."
JAPANESE = "日本語のテキストです。これは文字コードの検出のテストです。東京は日本の首都です。"


def test_latin1_text_is_decoded():
    result = run(FRENCH.encode("latin-1"), "text/plain")
    assert result.text == FRENCH
    assert result.detected_encoding in {"cp1252", "iso8859-1"}


def test_cp1252_smart_punctuation_is_decoded():
    text = "He said “hello” — and left… The price was 5 € and the naïve café closed."
    result = run(text.encode("cp1252"), None, "quote.txt")
    assert result.text == text
    assert result.detected_encoding == "cp1252"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_unicode_with_bom(encoding):
    text = "Grüße — 東京 ✓"
    raw = text.encode(encoding)
    if encoding == "utf-16-be":
        raw = b"\xfe\xff" + raw
    result = run(raw)
    assert result.text == text
    assert result.detected_encoding is not None
    assert result.detected_encoding.startswith("utf-")


def test_utf8_bom_is_dropped():
    result = run(b"\xef\xbb\xbfhello")
    assert result.text == "hello"
    assert result.detected_encoding == "utf-8-sig"


def test_shift_jis_is_detected():
    result = run(JAPANESE.encode("shift_jis"), "text/plain")
    assert result.text == JAPANESE
    assert result.detected_encoding in {"shift_jis", "cp932"}


def test_cyrillic_single_byte_text_is_not_mistaken_for_western():
    text = "Привет, как дела? Это тест определения кодировки для русского текста."
    result = run(text.encode("cp1251"), "text/plain")
    assert result.text == text


def test_declared_charset_wins_when_it_decodes():
    # 0xA4 is the euro sign in ISO-8859-15 but the generic currency sign in Windows-1252.
    result = run("Preis: 10 €".encode("iso-8859-15"), "text/plain; charset=ISO-8859-15")
    assert result.text == "Preis: 10 €"
    assert result.detected_encoding == "iso8859-15"


def test_declared_charset_that_does_not_decode_is_ignored():
    result = run(FRENCH.encode("cp1252"), "text/plain; charset=utf-8")
    assert result.text == FRENCH


@pytest.mark.parametrize("charset", ["x-no-such-thing", "base64", "rot13", ""])
def test_unusable_declared_charset_is_ignored(charset):
    assert run("naïve".encode(), f"text/plain; charset={charset}").text == "naïve"


def test_latin1_label_is_read_as_windows_1252_like_browsers_do():
    result = run("“quoted”".encode("cp1252"), "text/plain; charset=iso-8859-1")
    assert result.text == "“quoted”"


def test_utf8_cut_mid_character_by_a_size_limit_still_decodes_as_utf8():
    raw = "Zürich \u2013 Genève".encode()[:-1]  # the last "è" loses its second byte
    result = run(raw)
    assert result.text == "Zürich \u2013 Genèv"
    assert result.detected_encoding == "utf-8"


def test_html_meta_charset_is_honoured():
    html = '<html><head><meta charset="windows-1252"><title>Caf\xe9</title></head><body>'
    html += "<p>Cr\xe8me \x93br\xfbl\xe9e\x94</p></body></html>"
    result = run(html.encode("latin-1"), "text/html")
    assert result.title == "Café"
    assert result.text == "Crème “brûlée”"
    assert result.detected_encoding == "cp1252"


def test_meta_tag_claiming_utf16_in_ascii_bytes_is_ignored():
    html = '<meta charset="utf-16"><p>na\u00efve</p>'.encode()
    assert run(html, "text/html").text == "na\u00efve"


def test_content_type_charset_beats_the_meta_tag():
    html = '<meta http-equiv="Content-Type" content="text/html; charset=utf-8"><p>Fa\xe7ade</p>'
    result = run(html.encode("latin-1"), "text/html; charset=iso-8859-1")
    assert result.text == "Façade"


# --- type detection ------------------------------------------------------------------------


def test_specific_content_type_beats_the_extension():
    result = run(b"<p>Hello <i>world</i></p>", "text/html", "page.txt")
    assert result.text == "Hello world"


def test_generic_content_type_falls_back_to_the_extension():
    result = run(b"# Heading\n\nBody *text*.", "application/octet-stream", "README.md")
    assert result.text == "Heading\n\nBody text."
    assert result.title == "Heading"


def test_text_plain_is_refined_by_the_extension():
    result = run(b'{"owner": "Ann"}', "text/plain", "data.json")
    assert result.text == "owner: Ann"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (make_pdf([["Sniffed PDF"]]), "Sniffed PDF"),
        (make_docx(), "Employees must book flights through the portal."),
        (make_xlsx(), "Region\tSales"),
        (make_pptx(), "Opening slide"),
        (b"<!DOCTYPE html><html><body><p>Sniffed &amp; parsed</p></html>", "Sniffed & parsed"),
        (b'{"sniffed": "json"}', "sniffed: json"),
    ],
)  # fmt: skip
def test_format_is_sniffed_from_magic_bytes(content, expected):
    for content_type, filename in ((None, None), ("application/octet-stream", "download")):
        result = run(content, content_type, filename)
        assert result.metadata_only_reason is None
        assert expected in result.text


def test_images_are_metadata_only():
    for content_type, filename in ((None, None), ("image/png", None), (None, "scan.png")):
        result = run(PNG, content_type, filename)
        assert result.text == ""
        assert result.metadata_only_reason is not None
        assert "image" in result.metadata_only_reason


def test_image_bytes_labelled_text_plain_are_still_an_image():
    result = run(PNG, "text/plain")
    assert result.metadata_only_reason == "image (PNG image) has no extractable text"


@pytest.mark.parametrize(
    ("content", "content_type", "filename"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), None, None),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "application/msword", "old.doc"),
        (_zip({"a.txt": "zip member"}), None, "bundle.zip"),
        (b"\x00\x01" * 100, "video/mp4", None),
    ],
)
def test_unsupported_types_are_metadata_only(content, content_type, filename):
    result = run(content, content_type, filename)
    assert result.text == ""
    assert result.metadata_only_reason is not None
    assert result.metadata_only_reason.startswith("unsupported content type")


def test_undecodable_bytes_declared_as_text_are_metadata_only():
    noise = bytes((i * 7919 + 13) % 256 for i in range(4096))
    result = run(noise, "text/x-log")
    assert result.text == ""
    assert result.metadata_only_reason is not None
    assert "could not be decoded" in result.metadata_only_reason


# --- HTML, XML, Markdown -------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html><head><title> Quarterly
   report </title><style>body { color: red }</style>
<script>var secret = "leak";</script><meta name="x" content="head-only"></head>
<body>
<noscript>Enable JavaScript</noscript><template><p>template text</p></template>
<h1>Results &amp; outlook</h1>
<p>Revenue   grew
   <b>12&nbsp;%</b> in Q3&hellip; <a href="/x">details</a></p>
<!-- a comment that must not appear -->
<ul><li>North</li><li>South</li></ul>
<table><tr><th>Region</th><th>Growth</th></tr><tr><td>North</td><td>15 %</td></tr></table>
<pre>line one
    line two</pre>
<div>Last<br>line</div>
<svg><title>icon title</title><text>svg text</text></svg>
<script>document.write("more leak")</script>
</body></html>"""


def test_html_keeps_visible_text_only():
    result = run(HTML.encode(), "text/html")
    for hidden in ("leak", "color", "Enable JavaScript", "template text", "head-only",
                   "comment", "icon title", "svg text"):  # fmt: skip
        assert hidden not in result.text
    assert result.title == "Quarterly report"


def test_html_blocks_become_line_breaks_and_entities_are_decoded():
    result = run(HTML.encode(), "text/html")
    assert result.text == (
        "Results & outlook\n\n"
        "Revenue grew 12 % in Q3… details\n\n"
        "North\nSouth\n\n"
        "Region\tGrowth\nNorth\t15 %\n\n"
        "line one\nline two\n\n"
        "Last\nline"
    )


def test_html_fragment_without_a_type_is_sniffed():
    result = run(None, text="<p>First</p>\n<p>Second &amp; last</p>")
    assert result.text == "First\n\nSecond & last"
    assert run(None, text="a < b and c > d").text == "a < b and c > d"


def test_html_title_falls_back_to_the_first_heading():
    assert run(b"<body><h1>Main <em>heading</em></h1><p>x</p></body>", "text/html").title == (
        "Main heading"
    )


def test_deeply_nested_html_does_not_fail():
    html = "<div>" * 5000 + "deep text" + "</div>" * 5000
    result = run(html.encode(), "text/html")
    assert result.metadata_only_reason is None
    assert "deep text" in result.text


def test_xml_text_nodes_without_entity_expansion():
    xml = (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        b'<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
        b"<catalog><!-- note --><book><title>Caf\xe9 guide</title><price>12</price></book>"
        b"<book><title>Tea &amp; more</title>&secret;</book></catalog>"
    )
    result = run(xml, "application/xml")
    assert result.text == "Café guide\n12\nTea & more"


MARKDOWN = """---
title: "Runbook: restarts"
tags: [ops]
---
# Restarting the *search* cluster

Use the [admin console](https://admin.example.com "console") or ![diagram](d.png) the **CLI**.
Call `__init__` and keep snake_case_names intact.

* first step
1. numbered step
> quoted *advice*

```bash
# not a heading
curl -X POST **not bold**
```

| Node | Role |
|------|:----:|
| es-1 | master |

[admin]: https://admin.example.com
Subtitle
--------
"""


def test_markdown_markup_is_stripped_and_code_kept():
    result = run(MARKDOWN.encode(), "text/markdown")
    assert result.text == (
        "Restarting the search cluster\n\n"
        "Use the admin console or diagram the CLI.\n"
        "Call __init__ and keep snake_case_names intact.\n\n"
        "first step\nnumbered step\nquoted advice\n\n"
        "# not a heading\ncurl -X POST **not bold**\n\n"
        "Node\tRole\nes-1\tmaster\n\n"
        "Subtitle"
    )
    assert result.title == "Runbook: restarts"


def test_markdown_title_is_the_first_heading():
    result = run(b"Intro line\n\nSetext title\n============\n\n## Later\n", None, "a.md")
    assert result.title == "Setext title"
    assert result.text == "Intro line\n\nSetext title\n\nLater"


# --- CSV and JSON --------------------------------------------------------------------------


def test_csv_rows_become_lines():
    csv_bytes = b'name,city,note\r\nAnn,"Paris, FR","said ""hi""\nthen left"\r\nBob,Oslo,\r\n'
    result = run(csv_bytes, "text/csv")
    assert result.text == 'name\tcity\tnote\nAnn\tParis, FR\tsaid "hi"\nthen left\nBob\tOslo'


def test_csv_delimiter_is_sniffed():
    result = run(b"id;amount;label\n1;2,50;coffee\n2;3,10;tea\n", None, "export.csv")
    assert result.text == "id\tamount\tlabel\n1\t2,50\tcoffee\n2\t3,10\ttea"


def test_tsv_by_extension():
    assert run(b"a b\tc, d\n1\t2\n", None, "x.tsv").text == "a b\tc, d\n1\t2"


def test_json_values_are_flattened_with_their_keys():
    document = {
        "title": "Release notes",
        "version": 3,
        "draft": False,
        "owner": None,
        "sections": [{"heading": "Fixes", "items": ["crash on start", "slow search"]}],
    }
    result = run(json.dumps(document).encode(), "application/json")
    assert result.text.splitlines() == [
        "title: Release notes",
        "version: 3",
        "heading: Fixes",
        "items: crash on start",
        "items: slow search",
    ]
    assert result.title == "Release notes"


@pytest.mark.parametrize("depth", [2_000, 200_000])
def test_deeply_nested_json_never_fails(depth):
    nested = '{"k": ' * depth + '"leaf \\u00e9"' + "}" * depth
    result = run(nested.encode(), "application/json")
    assert result.metadata_only_reason is None
    assert result.text == "k: leaf é"


def test_json_lines_and_invalid_json():
    assert run(b'{"a": "x"}\n{"b": "y"}\n', None, "log.jsonl").text == "a: x\nb: y"
    assert run(b'{"a": "unterminated', "application/json").text == '{"a": "unterminated'


# --- PDF -----------------------------------------------------------------------------------


def test_pdf_text_and_metadata_title():
    pdf = make_pdf([["Quarterly report (draft)", "Revenue grew 12%."], ["Second page text"]],
                   title="Q3 Report")  # fmt: skip
    result = run(pdf, "application/pdf", "q3.pdf")
    assert result.metadata_only_reason is None
    assert result.title == "Q3 Report"
    assert "Quarterly report (draft)" in result.text
    assert "Revenue grew 12%." in result.text
    assert result.text.index("Revenue") < result.text.index("Second page text")


@pytest.mark.parametrize(
    "damage",
    [
        lambda pdf: pdf[: len(pdf) // 3],
        lambda pdf: b"%PDF-1.7\n" + bytes(range(256)) * 4,
        lambda pdf: pdf.replace(b"/Type /Pages", b"/Type /Broken").replace(b"/Kids", b"/Nope"),
    ],
    ids=["truncated", "garbage", "no-page-tree"],
)
def test_corrupt_pdf_is_metadata_only_with_a_reason(damage):
    result = run(damage(make_pdf([["Some text"]])), "application/pdf")
    assert result.text == ""
    assert result.metadata_only_reason is not None
    assert result.metadata_only_reason.startswith("PDF ")
    assert len(result.metadata_only_reason) < 300


def test_password_protected_pdf_is_metadata_only():
    result = run(encrypt_pdf(make_pdf([["Top secret"]]), "s3cret"), "application/pdf")
    assert result.text == ""
    assert result.metadata_only_reason == "PDF is encrypted and needs a password"


def test_pdf_encrypted_only_against_editing_is_read():
    result = run(encrypt_pdf(make_pdf([["Readable by anyone"]]), ""), "application/pdf")
    assert result.metadata_only_reason is None
    assert "Readable by anyone" in result.text


def test_pdf_without_text_is_metadata_only():
    result = run(make_pdf([[]], title="Scanned contract"), "application/pdf")
    assert result.metadata_only_reason == "PDF has no extractable text (scanned or image-only)"
    assert result.title == "Scanned contract"


# --- Office --------------------------------------------------------------------------------


def test_docx_paragraphs_and_tables_in_document_order():
    result = run(make_docx(), None, "policy.docx")
    assert result.title == "Travel Policy"
    assert result.text == (
        "Scope\n\nEmployees must book flights through the portal.\n\n"
        "Class\tAllowed distance\nEconomy\tany\talways\n\n"
        "Receipts are kept for seven years."
    )


def test_docx_that_is_not_a_word_document_is_metadata_only():
    result = run(_zip({"word/other.xml": "<x/>"}), None, "broken.docx")
    assert result.text == ""
    assert result.metadata_only_reason is not None
    assert result.metadata_only_reason.startswith("DOCX could not be parsed: ")


def test_xlsx_cells_in_workbook_order():
    result = run(make_xlsx(), None, "sales.xlsx")
    assert result.title == "Regional sales"
    assert result.text == "Summary\nTotal 1250.5\n\nData\nRegion\tSales\nNortheast\t1250.5"


def test_pptx_slides_in_presentation_order():
    result = run(make_pptx(), None, "deck.pptx")
    assert result.title == "Board update"
    assert result.text == "Opening slide\n\nSecond slide\nRevenue grew"


@pytest.mark.parametrize("build", [make_docx, make_xlsx, make_pptx])
def test_zip_bomb_is_refused(build, monkeypatch):
    monkeypatch.setattr("search.extract.office._MAX_UNZIPPED_BYTES", 1024)
    result = run(build())
    assert result.text == ""
    assert result.metadata_only_reason is not None
    assert "expands to more than" in result.metadata_only_reason


# --- never raise ---------------------------------------------------------------------------

_TYPES = [None, "text/plain", "text/html", "text/markdown", "text/csv", "application/json",
          "application/xml", "application/pdf", "image/png",
          "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "application/vnd.openxmlformats-officedocument.presentationml.presentation"]  # fmt: skip
_TYPES += [f"text/html; charset={name}" for name in ("base64", "utf-16", "bogus", "shift_jis")]
_SEEDS = [b"", b"%PDF-1.4\n", b"PK\x03\x04", b"<html><body>", b'{"a": [', b"\xff\xfe", b"# "]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(_SEEDS),
    body=st.binary(max_size=400),
    content_type=st.sampled_from(_TYPES),
    max_chars=st.integers(min_value=0, max_value=200),
)
def test_arbitrary_bytes_never_raise(seed, body, content_type, max_chars):
    result = run(seed + body, content_type, None, max_chars)
    assert len(result.text) <= max_chars
    assert (result.metadata_only_reason is None) or result.text == ""
    assert "\x00" not in result.text


_REAL_FILES = (make_pdf([["Hello world"]]), make_docx(), make_xlsx(), make_pptx())


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(min_value=0, max_value=10_000), flip=st.integers(min_value=0, max_value=255))
def test_damaged_real_files_never_raise(cut, flip):
    for original in _REAL_FILES:
        position = cut % len(original)
        damaged = original[:position] + bytes([flip]) + original[position + 1 :]
        result = run(damaged)
        assert isinstance(result, Extracted)
