"""Sentence spans and word overlap, the two pieces a suggested answer is cut and scored with."""

from __future__ import annotations

import numpy as np

from search.answers import (
    confidence_label,
    content_words,
    fragment,
    overlap,
    sentences,
    suggest_answer,
    unlabelled,
)
from search.query import Excerpt, ResultItem


def test_sentences_end_at_punctuation_line_breaks_and_tabs() -> None:
    text = (
        'Policy\n\nEmployees accrue 20 days. "Quoted" follows! Then\ta cell? e.g. lower case stays.'
    )
    spans = [text[b:e] for b, e in sentences(text)]
    assert spans == [
        "Policy",
        "Employees accrue 20 days.",
        '"Quoted" follows!',
        "Then",
        "a cell? e.g. lower case stays.",
    ]


def test_overlap_counts_content_words_of_the_query_only() -> None:
    assert content_words("How often are the backups verified?") == {"often", "backup", "verifi"}
    assert (
        overlap(content_words("How often are backups verified?"), "Backups are verified weekly.")
        == 2 / 3
    )
    assert overlap(set(), "anything") == 0.0
    assert confidence_label(0.85) == "VERY_HIGH" and confidence_label(0.5) == "LOW"


def test_field_labels_and_cut_sentences_are_not_answers() -> None:
    """Text extracted from JSON or YAML carries "key: value" lines; a later passage starts
    inside a sentence the previous one holds whole."""
    line = "statements: Our spring newsletter reached forty thousand subscribers."
    assert line[unlabelled(line, 0, len(line)) :] == (
        "Our spring newsletter reached forty thousand subscribers."
    )
    for kept in ("author: x", "Note: The label is a word of the sentence.", "see: the annex"):
        assert unlabelled(kept, 0, len(kept)) == 0
    assert fragment("reached forty thousand subscribers. Next.", 0, index=3)
    assert not fragment("reached forty thousand subscribers. Next.", 0, index=0)
    assert not fragment("Reached forty thousand subscribers. Next.", 0, index=3)


class _Vectors:
    """Known similarities to the query, and a record of what was embedded (the embedder's
    speed is what the search for the best sentence saves; its vectors are tested elsewhere)."""

    def __init__(self, similarity: dict[str, float]) -> None:
        self.similarity = similarity
        self.embedded: list[str] = []

    def encode_query(self, text: str) -> np.ndarray:
        return np.array([1.0, 0.0], dtype=np.float32)

    def encode(self, texts: list[str], *, query: bool = False) -> list[np.ndarray]:
        self.embedded += texts
        out = []
        for t in texts:
            cos = self.similarity[t]
            out.append(np.array([cos, (1 - cos * cos) ** 0.5], dtype=np.float32))
        return out


def test_the_best_sentence_is_found_without_embedding_every_sentence() -> None:
    query = "When are backups verified?"  # content words: backup, verifi
    wordy = [f"Backups verified item {i} stays on the list." for i in range(15)]
    answer = "Backups run weekly and are restored into staging."  # half the words
    unrelated = [f"The cafeteria serves soup number {i} today." for i in range(6)]
    vectors = _Vectors({**dict.fromkeys(wordy, 0.2), answer: 0.95, **dict.fromkeys(unrelated, 0.9)})
    passage = " ".join([*wordy, answer, *unrelated])
    result = ResultItem(
        id="d1",
        title="Ops",
        uri=None,
        excerpt=Excerpt(text=""),
        score=1.0,
        attributes={},
        data_source_id="s",
    )
    result._answer_passages = [(0, passage)]
    got = suggest_answer(vectors, query, [result])  # type: ignore[arg-type]
    assert got is not None and got.answer_text == answer
    assert got.confidence == round(0.6 * 0.95 + 0.4 * 0.5, 4)
    # Everything holding a query word is weighed; the sentences holding none could not
    # reach 0.77 even if identical to the query (0.6), so they are never embedded.
    assert set(vectors.embedded) == {*wordy, answer}
