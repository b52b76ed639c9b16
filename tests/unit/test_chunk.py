"""Passage splitting: sizes, boundaries, overlap, offsets and full coverage."""

from __future__ import annotations

import itertools
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.chunk import Passage, split_passages

WORD_RE = re.compile(r"\S+")


def words(text: str) -> list[str]:
    return WORD_RE.findall(text)


def sentence(index: int, length: int = 12) -> str:
    body = " ".join(f"w{index}x{i}" for i in range(length - 1))
    return f"S{index} {body}."


def assert_offsets_exact(text: str, passages: list[Passage]) -> None:
    for position, passage in enumerate(passages):
        assert passage.index == position
        assert text[passage.start : passage.end] == passage.text
        assert passage.text == passage.text.strip()


def covered(text: str, passages: list[Passage]) -> list[bool]:
    marks = [False] * len(text)
    for passage in passages:
        for position in range(passage.start, passage.end):
            marks[position] = True
    return marks


def assert_every_word_covered(text: str, passages: list[Passage]) -> None:
    marks = covered(text, passages)
    for match in WORD_RE.finditer(text):
        assert all(marks[match.start() : match.end()]), f"word {match.group()!r} not covered"


# --- small and empty input -----------------------------------------------------------------


def test_empty_text_with_a_title_gives_a_title_passage():
    assert split_passages("  \n\t ", "  Travel   policy ") == [
        Passage(index=0, text="Travel policy", start=0, end=0)
    ]


def test_empty_text_without_a_title_gives_nothing():
    assert split_passages("", None) == []
    assert split_passages(" \n ", "   ") == []


def test_short_text_is_one_passage_without_surrounding_whitespace():
    text = "\n\n  Hello there. This is short.  \n"
    assert split_passages(text, "Title") == [
        Passage(index=0, text="Hello there. This is short.", start=4, end=31)
    ]


def test_text_of_exactly_max_words_is_one_passage():
    text = " ".join(f"w{i}" for i in range(300))
    [passage] = split_passages(text, None)
    assert passage.text == text


# --- splitting -----------------------------------------------------------------------------


def long_prose(sentences: int = 80) -> str:
    paragraphs = []
    for start in range(0, sentences, 5):
        paragraphs.append(" ".join(sentence(i) for i in range(start, start + 5)))
    return "\n\n".join(paragraphs)


def test_long_text_is_split_into_bounded_overlapping_passages():
    text = long_prose()
    passages = split_passages(text, None)
    assert len(passages) > 3
    assert_offsets_exact(text, passages)
    assert_every_word_covered(text, passages)
    for passage in passages:
        assert len(words(passage.text)) <= 300
    for passage in passages[:-1]:
        assert len(words(passage.text)) >= 140
    for previous, following in itertools.pairwise(passages):
        assert previous.start < following.start < previous.end < following.end
        shared = len(words(text[following.start : previous.end]))
        assert 20 <= shared <= 60


def test_cuts_fall_on_sentence_ends_and_starts():
    text = long_prose()
    passages = split_passages(text, None)
    for passage in passages:
        assert passage.text.endswith(".")
        assert passage.text.startswith("S")


def test_a_paragraph_break_near_the_target_is_preferred_to_a_sentence_end():
    # Sentences of 10 words; one paragraph break after 230 words, sentence ends everywhere.
    first = " ".join(sentence(i, 10) for i in range(23))
    rest = " ".join(sentence(i, 10) for i in range(23, 60))
    text = f"{first}\n\n{rest}"
    passages = split_passages(text, None)
    assert passages[0].end == len(first)


def test_text_without_punctuation_is_cut_between_words():
    text = " ".join(f"token{i}" for i in range(1000))
    passages = split_passages(text, None, target_words=100, overlap_words=10, max_words=120)
    assert len(passages) > 8
    assert_offsets_exact(text, passages)
    assert_every_word_covered(text, passages)
    vocabulary = set(words(text))
    for passage in passages:
        assert set(words(passage.text)) <= vocabulary  # never a partial word
        assert len(words(passage.text)) <= 120


def test_cjk_text_without_spaces_is_split_by_character():
    text = "日本語の文章です。" * 200  # 1800 characters, no spaces
    passages = split_passages(text, None)
    assert len(passages) > 5
    assert_offsets_exact(text, passages)
    assert all(len(p.text) <= 300 for p in passages)
    assert all(p.text.endswith("。") for p in passages)
    assert all(covered(text, passages))


def test_a_huge_token_cannot_make_an_unbounded_passage():
    blob = "QUJD" * 20_000  # 80 000 characters without whitespace
    text = f"Attachment follows. {blob} End."
    passages = split_passages(text, None)
    assert len(passages) > 1
    assert_offsets_exact(text, passages)
    assert all(len(p.text) <= 300 * 100 + 299 for p in passages)
    marks = covered(text, passages)
    assert all(marks[i] for i, char in enumerate(text) if not char.isspace())


def test_zero_overlap_gives_adjacent_passages():
    text = " ".join(f"w{i}" for i in range(1000))
    passages = split_passages(text, None, target_words=100, overlap_words=0, max_words=100)
    assert [len(words(p.text)) for p in passages] == [100] * 10
    for previous, following in itertools.pairwise(passages):
        assert previous.end < following.start
        assert text[previous.end : following.start] == " "


def test_splitting_is_deterministic():
    text = long_prose(120)
    assert split_passages(text, "t") == split_passages(text, "t")


@pytest.mark.parametrize(
    ("target", "overlap", "maximum"),
    [(0, 0, 10), (20, 5, 10), (20, 20, 30), (20, -1, 30)],
)
def test_invalid_sizes_are_rejected(target, overlap, maximum):
    with pytest.raises(ValueError):
        split_passages("some text", None, target, overlap, maximum)


def test_passages_are_frozen():
    [passage] = split_passages("one two", None)
    with pytest.raises(ValueError):
        passage.text = "changed"  # type: ignore[misc]


# --- properties ----------------------------------------------------------------------------

_MARKS = ["", "", "", "", ".", ",", "!", "?", ";", ".)", "。"]
_GAPS = [" ", " ", " ", " ", "  ", "\n", "\n\n", "\t", " \n \n "]


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Words, punctuation and mixed whitespace; built from a seeded Random for speed."""
    count = draw(st.integers(min_value=0, max_value=400))
    rng = random.Random(draw(st.integers(min_value=0, max_value=2**32)))  # one draw, fast
    pieces = [draw(st.sampled_from(["", " ", "\n\n"]))]
    for _ in range(count):
        word = "".join(rng.choices("abcdefghij", k=rng.randint(1, 8)))
        pieces.append(word + rng.choice(_MARKS) + rng.choice(_GAPS))
    return "".join(pieces)


@st.composite
def sizes(draw: st.DrawFn) -> tuple[int, int, int]:
    target = draw(st.integers(min_value=1, max_value=60))
    maximum = draw(st.integers(min_value=target, max_value=target * 2))
    overlap = draw(st.integers(min_value=0, max_value=target - 1))
    return target, overlap, maximum


@settings(max_examples=200, deadline=None)
@given(text=documents(), params=sizes())
def test_passages_cover_the_text_with_exact_offsets(text, params):
    target, overlap, maximum = params
    passages = split_passages(text, None, target, overlap, maximum)
    tokens = list(WORD_RE.finditer(text))
    if not tokens:
        assert passages == []
        return
    assert_offsets_exact(text, passages)
    assert_every_word_covered(text, passages)
    starts = {m.start() for m in tokens}
    ends = {m.end() for m in tokens}
    for passage in passages:
        assert passage.start in starts  # never mid-word
        assert passage.end in ends
        assert 1 <= len(words(passage.text)) <= maximum
    assert passages[0].start == tokens[0].start()
    assert passages[-1].end == tokens[-1].end()
    if len(tokens) <= maximum:
        assert len(passages) == 1
    for previous, following in itertools.pairwise(passages):
        assert previous.start < following.start
        assert previous.end < following.end
        if overlap:
            shared = len(words(text[following.start : previous.end]))
            assert 1 <= shared <= overlap + overlap // 2  # about overlap_words, never nested
        else:
            assert following.start > previous.end
    assert passages == split_passages(text, None, target, overlap, maximum)
