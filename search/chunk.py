"""Passage splitting: a document's text becomes overlapping passages, each embedded separately.

Choices:

* Words are runs of non-space characters, except that each CJK ideograph or kana counts as a
  word (Japanese and Chinese have no spaces) and a run longer than 100 characters (base64,
  minified data) counts as one word per 100 characters. Without that, one "word" could make a
  passage unbounded.
* A passage holds at most ``max_words`` words. Text of at most ``max_words`` words is one
  passage. Otherwise each passage ends at the best boundary between
  ``2 * target_words - max_words`` and ``max_words`` words: a paragraph break scores 3, a
  sentence end or line break 2, a clause mark (``, ; :``) 1, a bare word gap 0. A score point
  is worth ``(max_words - target_words) // 2`` words of distance from ``target_words``; with
  the defaults (40 words a point) any sentence end in the 140-300 window beats a bare gap, and
  a paragraph break beats a sentence end up to 40 words nearer the target.
* The next passage starts about ``overlap_words`` words before the previous end, moved to a
  sentence or paragraph start if one lies within half the overlap either way. Overlap keeps a
  sentence cut by one passage whole in its neighbour; starting at a sentence makes better
  excerpts. Every passage is longer than the overlap and ends after its predecessor, so the
  walk always moves on and no passage lies inside another.
* ``start`` and ``end`` are character offsets into the text given, and a passage's text is
  exactly ``text[start:end]``, so highlight offsets inside a passage map back to the document
  by adding ``start``. Passages start on a word's first character and end on a word's last.
* Every word lies in at least one passage, and the same input always gives the same passages.
* Text with no words gives one passage made of the title (offsets ``0, 0``, as it is not part
  of the text) or, without a title, no passage.
"""

from __future__ import annotations

import itertools
import re

from pydantic import BaseModel, ConfigDict

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
_MAX_WORD_CHARS = 100
_WORD_RE = re.compile(rf"[{_CJK}]|[^\s{_CJK}]{{1,{_MAX_WORD_CHARS}}}")
# Sentence ends (also ideographic and fullwidth ones), optionally followed by closing quotes.
_SENTENCE_END_RE = re.compile(
    "[.!?\u2026\u3002\uff01\uff1f][\"')\\]\u00bb\u2019\u201d\u300d\u300f]*$"
)
_CLAUSE_END = frozenset(",;:\u3001\uff0c\uff1b\uff1a")
_PARAGRAPH, _SENTENCE, _CLAUSE, _NONE = 3, 2, 1, 0


class Passage(BaseModel):
    """One slice of a document's text; ``text == document_text[start:end]``."""

    model_config = ConfigDict(frozen=True)

    index: int
    text: str
    start: int
    end: int


def split_passages(
    text: str,
    title: str | None,
    target_words: int = 220,
    overlap_words: int = 40,
    max_words: int = 300,
) -> list[Passage]:
    """Split ``text`` into overlapping passages of about ``target_words`` words."""
    _check_sizes(target_words, overlap_words, max_words)
    spans = [match.span() for match in _WORD_RE.finditer(text)]
    if not spans:
        return _title_passage(title)
    scores = _boundary_scores(text, spans)
    ranges = _plan(scores, len(spans), target_words, overlap_words, max_words)
    return [
        Passage(index=index, text=text[spans[first][0] : spans[last - 1][1]],
                start=spans[first][0], end=spans[last - 1][1])
        for index, (first, last) in enumerate(ranges)
    ]  # fmt: skip


def _check_sizes(target_words: int, overlap_words: int, max_words: int) -> None:
    if not 1 <= target_words <= max_words:
        raise ValueError("need 1 <= target_words <= max_words")
    if not 0 <= overlap_words < target_words:
        raise ValueError("need 0 <= overlap_words < target_words")


def _title_passage(title: str | None) -> list[Passage]:
    flat = " ".join((title or "").split())
    return [Passage(index=0, text=flat, start=0, end=0)] if flat else []


def _boundary_scores(text: str, spans: list[tuple[int, int]]) -> list[int]:
    """``scores[i]``: how good a cut is just before word ``i`` (``scores[0]`` is unused)."""
    scores = [_NONE]
    for (prev_start, prev_end), (start, _) in itertools.pairwise(spans):
        newlines = text.count("\n", prev_end, start)
        if newlines >= 2:
            scores.append(_PARAGRAPH)
        elif newlines or _SENTENCE_END_RE.search(text, prev_start, prev_end):
            scores.append(_SENTENCE)
        elif text[prev_end - 1] in _CLAUSE_END:
            scores.append(_CLAUSE)
        else:
            scores.append(_NONE)
    return scores


def _plan(
    scores: list[int], count: int, target: int, overlap: int, most: int
) -> list[tuple[int, int]]:
    """Word ranges ``[first, last)`` of the passages, in order.

    Each passage is longer than the overlap (so the next one can overlap and still move on)
    and ends after the previous one (so no passage lies inside its predecessor).
    """
    least = max(1, 2 * target - most, overlap + 1)
    ranges: list[tuple[int, int]] = []
    first, previous_last = 0, 0
    while count - first > most:
        lowest = max(first + least, previous_last + 1)
        last = _best_end(scores, first, lowest, target, most)
        ranges.append((first, last))
        first, previous_last = _next_start(scores, first, last, overlap, most), last
    ranges.append((first, count))
    return ranges


def _best_end(scores: list[int], first: int, lowest: int, target: int, most: int) -> int:
    """The cut in ``[lowest, first + most]`` that best trades boundary score against size."""
    weight = max(1, (most - target) // 2)
    ideal = first + target
    candidates = range(lowest, first + most + 1)
    return max(candidates, key=lambda end: (scores[end] * weight - abs(end - ideal), -end))


def _next_start(scores: list[int], first: int, last: int, overlap: int, most: int) -> int:
    """About ``overlap`` words before ``last``, at a sentence start when one is near.

    Never before ``last - most + 1``, so the next passage can still end after ``last``.
    """
    if overlap == 0:
        return last
    ideal = last - overlap
    low = max(first + 1, ideal - overlap // 2, last - most + 1)
    high = max(low, min(last - 1, ideal + overlap // 2))
    sentence_starts = [i for i in range(low, high + 1) if scores[i] >= _SENTENCE]
    if not sentence_starts:
        return min(max(ideal, low), high)
    return max(sentence_starts, key=lambda i: (scores[i], -abs(i - ideal), -i))
