"""Suggested answers: the one sentence of the top results' best passages that answers the query.

Built from what the query path already found: the best passages of the top results (read
with the page, under the searcher's ACL filter) are split into sentences, and every sentence is
scored against the query by meaning (cosine of the embeddings) and by words (how many of the
query's content words it holds). The best sentence is returned with its passage, offsets and a
confidence; nothing is returned when the confidence is below ``MIN_CONFIDENCE``, because a wrong
answer on top of the results misleads more than no answer does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from search.embed import Embedder
from search.query import Excerpt, Highlight, ResultItem, SuggestedAnswer

TOP_DOCUMENTS = 3
MAX_SENTENCES = 40
EMBED_CHUNK = 8
"""Sentences embedded at once while looking for the best (``suggest_answer``)."""
SEMANTIC_WEIGHT = 0.6
MIN_CONFIDENCE = 0.55
"""Below this a sentence is not offered (chosen on the demo question set, bench/answers.py)."""
MIN_SENTENCE_CHARS = 20
MAX_SENTENCE_CHARS = 600

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_BLOCK = re.compile(r"[^\n\t]+")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    re.findall(
        r"\w+",
        """a an the and or but if of to in on at by for with from as into about over under is are was
    were be been being do does did doing have has had having what which who whom whose when where
    why how can could should would will shall may might must i me my we our you your he she it its
    they them their this that these those there here any some all each every no not than then so
    such very just also get gets got please tell know""",
    )
)


def sentences(text: str) -> list[tuple[int, int]]:
    """(begin, end) offsets of the sentences of ``text``, stripped of surrounding spaces."""
    spans: list[tuple[int, int]] = []
    # Line breaks and tabs end a sentence too (titles, list items, table cells).
    for block in _BLOCK.finditer(text):
        start = block.start()
        for m in _SENTENCE_END.finditer(text, block.start(), block.end()):
            spans.append((start, m.start()))
            start = m.end()
        spans.append((start, block.end()))
    out = []
    for b, e in spans:
        while b < e and text[b].isspace():
            b += 1
        while e > b and text[e - 1].isspace():
            e -= 1
        if e > b:
            out.append((b, e))
    return out


_LABEL = re.compile(r"[a-z][a-z0-9_ ]{0,30}:[ \t]+(?=[\"'(\[]?[A-Z0-9])")


def unlabelled(passage: str, begin: int, end: int) -> int:
    """Where a sentence starts past a field label ("statements: Our newsletter..." as text
    extracted from JSON or YAML writes it): the label is not part of the answer."""
    label = _LABEL.match(passage, begin, end)
    return label.end() if label else begin


def fragment(passage: str, begin: int, index: int) -> bool:
    """Whether a span is the tail of a sentence cut where a later passage begins (passages
    overlap, so the whole sentence is in the previous one): it starts in lower case."""
    return begin == 0 and index > 0 and passage[:1].islower()


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP}


def overlap(query_words: set[str], sentence: str) -> float:
    """The share of the query's content words the sentence holds."""
    if not query_words:
        return 0.0
    return len(query_words & content_words(sentence)) / len(query_words)


def confidence_label(confidence: float) -> str:
    """Kendra's ScoreConfidence buckets for the confidence."""
    if confidence >= 0.8:
        return "VERY_HIGH"
    if confidence >= 0.7:
        return "HIGH"
    if confidence >= 0.6:
        return "MEDIUM"
    return "LOW"


@dataclass
class _Sentence:
    result: ResultItem
    passage_index: int
    passage: str
    begin: int
    end: int

    @property
    def text(self) -> str:
        return self.passage[self.begin : self.end]


def suggest_answer(
    embedder: Embedder,
    text: str,
    results: Sequence[ResultItem],
    min_confidence: float = MIN_CONFIDENCE,
) -> SuggestedAnswer | None:
    """The best answering sentence of the top results' passages, or None.

    The passages are those the results were read with (``ResultItem.answer_passages``): the
    best matches of the query in each, read under the searcher's ACL filter with the page.
    """
    candidates: list[_Sentence] = []
    for result in results[:TOP_DOCUMENTS]:
        for index, passage in result.answer_passages():
            for begin, e in sentences(passage):
                b = unlabelled(passage, begin, e)
                if MIN_SENTENCE_CHARS <= e - b <= MAX_SENTENCE_CHARS and not fragment(
                    passage, b, index
                ):
                    candidates.append(_Sentence(result, index, passage, b, e))
    candidates = candidates[:MAX_SENTENCES]
    if not candidates:
        return None
    query_vector = np.asarray(embedder.encode_query(text), dtype=np.float32)
    query_words = content_words(text)
    # Embedding a sentence is most of an answer's cost (~2 ms each on one core), so they are
    # embedded a few at a time, most query words first, until no sentence left could beat the
    # best so far even with a perfect similarity: the same answer, for a fraction of the work.
    ranked = sorted(
        ((overlap(query_words, c.text), c) for c in candidates), key=lambda pair: -pair[0]
    )
    best: tuple[float, _Sentence] | None = None
    for start in range(0, len(ranked), EMBED_CHUNK):
        chunk = ranked[start : start + EMBED_CHUNK]
        ceiling = SEMANTIC_WEIGHT + (1 - SEMANTIC_WEIGHT) * chunk[0][0]
        if best is not None and ceiling <= best[0]:
            break
        unique = list(dict.fromkeys(c.text for _, c in chunk))
        vectors = dict(zip(unique, embedder.encode(unique, query=True), strict=True))
        for words, c in chunk:
            cos = float(np.dot(query_vector, vectors[c.text]))
            score = SEMANTIC_WEIGHT * cos + (1 - SEMANTIC_WEIGHT) * words
            if best is None or score > best[0]:
                best = (score, c)
    assert best is not None
    confidence, chosen = best
    if confidence < min_confidence:
        return None
    return SuggestedAnswer(
        document_id=chosen.result.id,
        title=chosen.result.title,
        uri=chosen.result.uri,
        passage_index=chosen.passage_index,
        answer_text=chosen.text,
        excerpt=Excerpt(
            text=chosen.passage, highlights=[Highlight(begin=chosen.begin, end=chosen.end)]
        ),
        confidence=round(confidence, 4),
        score_confidence=confidence_label(confidence),
    )
