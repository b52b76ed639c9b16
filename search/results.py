"""Turning Elasticsearch hits into results: attributes, excerpts and highlight offsets.

Highlights come back from Elasticsearch wrapped in private-use characters (never found in
indexed text), which are stripped here into (begin, end) offsets into the excerpt's text.
"""

from __future__ import annotations

from typing import Any

from search.mapping import RESERVED_ATTRIBUTES
from search.query import Excerpt, Highlight, ResultItem
from search.writer import es_id

PRE, POST = "\ue000", "\ue001"
EXCERPT_CHARS = 300
ANSWER_PASSAGES = 2
"""Passages matching the query read per result, best first, for suggested answers."""
RESULT_SOURCE = [
    "doc_id",
    "title",
    "source_uri",
    "data_source_id",
    "created_at",
    "last_updated_at",
    "authors",
    "category",
    "file_type",
    "language_code",
    "attr",
    "folder",
    "text_hash",
]


DOC_ID = "doc_id"


def ids_only(*fields: str) -> dict[str, Any]:
    """Search parameters for hits that need only their id (and ``fields``' doc values).

    Reading ``_id`` loads the stored fields, and so decompresses each hit's whole source with
    its passages and vectors: most of a ranking stage's cost. The source's id comes from doc
    values instead (``hit_id``)."""
    return {"stored_fields": "_none_", "docvalue_fields": [DOC_ID, *fields]}


def hit_id(hit: dict[str, Any]) -> str:
    """The Elasticsearch id of a hit read with ``ids_only`` (or of any hit)."""
    if "_id" in hit:
        return str(hit["_id"])
    return es_id(str(hit["fields"][DOC_ID][0]))


def cosine(score: float) -> float:
    # Elasticsearch reports dot_product similarity on unit vectors as (1 + cos) / 2.
    return 2.0 * float(score) - 1.0


def best_passage(hit: dict[str, Any]) -> int | None:
    inner = hit.get("inner_hits", {}).get("passages", {}).get("hits", {}).get("hits", [])
    if not inner:
        return None
    nested = inner[0].get("_nested", {})
    offset = nested.get("offset")
    return int(offset) if offset is not None else None


def limit_words(text: str, words: int) -> str:
    parts = text.split()
    return text if len(parts) <= words else " ".join(parts[:words])


def attributes(src: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, field in RESERVED_ATTRIBUTES.items():
        if "." in field or field == "doc_id":
            continue
        if src.get(field) not in (None, [], ""):
            out[name] = src[field]
    for key, value in (src.get("attr") or {}).items():
        out[key] = value
    return out


def excerpt(hit: dict[str, Any], dense_passage: int | None) -> tuple[Excerpt, int | None]:
    """The best lexical passage with its highlights, else the best dense passage, trimmed."""
    inner = hit.get("inner_hits", {}).get("passages", {}).get("hits", {}).get("hits", [])
    if inner and inner[0].get("highlight", {}).get("passages.text"):
        marked = inner[0]["highlight"]["passages.text"][0]
        index = inner[0]["_nested"]["offset"]
        return trim(*strip_marks(marked)), index
    passages = hit["_source"].get("passages") or []
    index = dense_passage if dense_passage is not None and dense_passage < len(passages) else 0
    if not passages:
        return Excerpt(text=""), None
    return trim(passages[index].get("text", ""), []), index


def strip_marks(marked: str) -> tuple[str, list[Highlight]]:
    out: list[str] = []
    highlights: list[Highlight] = []
    begin = 0
    length = 0
    for ch in marked:
        if ch == PRE:
            begin = length
        elif ch == POST:
            highlights.append(Highlight(begin=begin, end=length))
        else:
            out.append(ch)
            length += 1
    return "".join(out), highlights


def trim(text: str, highlights: list[Highlight]) -> Excerpt:
    if len(text) <= EXCERPT_CHARS:
        return Excerpt(text=text, highlights=highlights)
    first = highlights[0].begin if highlights else 0
    start = max(0, first - 60)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    stop = min(len(text), start + EXCERPT_CHARS)
    if stop < len(text):
        space = text.rfind(" ", start, stop)
        stop = space if space > start else stop
    kept = [
        Highlight(begin=h.begin - start, end=h.end - start)
        for h in highlights
        if h.begin >= start and h.end <= stop
    ]
    return Excerpt(text=text[start:stop], highlights=kept)


PAGE_SOURCE = {"includes": [*RESULT_SOURCE, "passages.text", "passages.index"]}
"""What a page of results reads of each document (its fields and passage texts)."""


def page_query(text: str, filters: list[dict[str, Any]]) -> dict[str, Any]:
    """The documents ``filters`` select, each with its best-matching passage highlighted."""
    return {
        "bool": {
            "filter": filters,
            "should": [
                {
                    "nested": {
                        "path": "passages",
                        "score_mode": "max",
                        "query": {"match": {"passages.text": text}},
                        "inner_hits": {
                            "size": ANSWER_PASSAGES,
                            "_source": ["passages.index"],
                            "highlight": {
                                "fields": {
                                    "passages.text": {
                                        "number_of_fragments": 0,
                                        "pre_tags": [PRE],
                                        "post_tags": [POST],
                                    }
                                }
                            },
                        },
                    }
                }
            ],
        }
    }


def result_item(
    hit: dict[str, Any], passage_index: int | None, score: float, **extra: Any
) -> ResultItem:
    """One page hit (read with ``page_query``) as a result, its excerpt from its best passage."""
    src = hit["_source"]
    shown, shown_passage = excerpt(hit, passage_index)
    item = ResultItem(
        id=src["doc_id"],
        title=src.get("title") or "",
        uri=src.get("source_uri"),
        excerpt=shown,
        score=score,
        attributes=attributes(src),
        data_source_id=src.get("data_source_id"),
        passage_index=shown_passage,
        folder=src.get("folder") or None,
        **extra,
    )
    item._answer_passages = answer_passages(hit, shown_passage)
    return item


def answer_passages(hit: dict[str, Any], shown: int | None) -> list[tuple[int, str]]:
    """The hit's passages matching the query (best first), then the one shown, else the first."""
    passages = hit["_source"].get("passages") or []
    inner = hit.get("inner_hits", {}).get("passages", {}).get("hits", {}).get("hits", [])
    chosen = [int(i["_nested"]["offset"]) for i in inner]
    if shown is not None:
        chosen.append(shown)
    if not chosen:
        chosen = [0]
    out: list[tuple[int, str]] = []
    for offset in dict.fromkeys(chosen):
        if 0 <= offset < len(passages):
            p = passages[offset]
            out.append((int(p.get("index", offset)), p.get("text") or ""))
    return out
