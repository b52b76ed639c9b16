"""Markup formats: HTML, XML and Markdown to plain text and a title."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from search.extract.normalise import NEWLINE_RE

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


def parse_html(markup: str) -> tuple[str, str | None]:
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


def parse_xml(markup: str) -> tuple[str, str | None]:
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
        return parse_html(markup)
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


def parse_markdown(source: str) -> tuple[str, str | None]:
    source = NEWLINE_RE.sub("\n", source)
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
