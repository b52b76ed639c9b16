"""The rerank's score: every lexical match keeps credit and ranks above non-matching neighbours."""

from __future__ import annotations

from search.engine import fused_score


def test_a_match_ranks_above_a_far_more_similar_neighbour() -> None:
    match = fused_score(lexical=3.0, top_lexical=3.0, dense=0.05, lexical_weight=0.2)
    neighbour = fused_score(lexical=None, top_lexical=3.0, dense=0.95, lexical_weight=0.2)
    assert match > neighbour


def test_the_weaker_of_two_matches_keeps_lexical_credit() -> None:
    strong = fused_score(lexical=10.0, top_lexical=10.0, dense=0.3, lexical_weight=0.2)
    weak = fused_score(lexical=8.0, top_lexical=10.0, dense=0.3, lexical_weight=0.2)
    no_credit = fused_score(lexical=None, top_lexical=10.0, dense=0.3, lexical_weight=0.2)
    assert strong > weak
    assert weak[1] - no_credit[1] > 0.15  # 0.2 x 0.8 of lexical credit, not zero as min-max gave


def test_within_a_tier_similarity_decides() -> None:
    closer = fused_score(lexical=5.0, top_lexical=10.0, dense=0.8, lexical_weight=0.2)
    farther = fused_score(lexical=5.0, top_lexical=10.0, dense=0.4, lexical_weight=0.2)
    assert closer > farther
