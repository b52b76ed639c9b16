"""Sentence spans and word overlap, the two pieces a suggested answer is cut and scored with."""

from __future__ import annotations

from search.answers import confidence_label, content_words, overlap, sentences


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
