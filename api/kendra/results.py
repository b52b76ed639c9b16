"""The core's results as Kendra result items: typed attributes, highlights, confidence buckets.

Result ids are ``<QueryId>-<n>`` (Kendra caps them at 73 characters, too short for many
document ids); which document each id stands for is kept with the query so that
``SubmitFeedback`` stores feedback against documents, as the native API does.
"""

from __future__ import annotations

from typing import Any

from api.kendra.attributes import document_attributes, to_kendra_value
from search.attribute_types import AttributeTypes
from search.query import Excerpt, FaqAnswer, ResultItem, SuggestedAnswer

RERANKED = 10.0
"""The engine ranks its reranked top N at 10 + (a blend of lexical and dense evidence in
[-1, 1]); below that, scores are fusion ranks that say nothing about strength."""
BUCKETS = ((0.78, "VERY_HIGH"), (0.62, "HIGH"), (0.48, "MEDIUM"))
PASSAGE_BUCKETS = ((0.62, "VERY_HIGH"), (0.5, "HIGH"), (0.38, "MEDIUM"))
"""Cut-offs on the blended score and on a passage's cosine similarity; chosen on the
Alfresco sample so that an exact topic match reads HIGH or better and an unrelated page LOW."""


def confidence(score: float) -> str:
    if score < RERANKED:
        return "LOW"
    return _bucket(score - RERANKED, BUCKETS)


def passage_confidence(cosine: float) -> str:
    return _bucket(cosine, PASSAGE_BUCKETS)


def _bucket(value: float, buckets: tuple[tuple[float, str], ...]) -> str:
    for cut, name in buckets:
        if value >= cut:
            return name
    return "LOW"


def text_with_highlights(excerpt: Excerpt) -> dict[str, Any]:
    return {
        "Text": excerpt.text,
        "Highlights": [
            {"BeginOffset": h.begin, "EndOffset": h.end, "TopAnswer": False, "Type": "STANDARD"}
            for h in excerpt.highlights
        ],
    }


def query_items(
    query_id: str,
    results: list[ResultItem],
    types: AttributeTypes,
    wanted: list[str] | None,
    sorted_by_attribute: bool,
    answer: SuggestedAnswer | None,
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Kendra ``ResultItems`` (the suggested answer first) and the result id → document id map
    for feedback."""
    items: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    answered = False
    for n, result in enumerate(results):
        level = "NOT_AVAILABLE" if sorted_by_attribute else confidence(result.score)
        item = _document_item(f"{query_id}-{n}", result, types, wanted, level)
        if answer is not None and not answered and result.id == answer.document_id:
            items.insert(0, _answer_item(f"{query_id}-a", item, answer))
            ids[f"{query_id}-a"] = result.id
            answered = True
        items.append(item)
        ids[item["Id"]] = result.id
    return items, ids


def _document_item(
    result_id: str, result: ResultItem, types: AttributeTypes, wanted: list[str] | None, level: str
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "Id": result_id,
        "Type": "DOCUMENT",
        "DocumentId": result.id,
        "DocumentTitle": {"Text": result.title or result.id, "Highlights": []},
        "DocumentAttributes": document_attributes(result.attributes, types, wanted),
        "ScoreAttributes": {"ScoreConfidence": level},
        "FeedbackToken": f"{result_id}.{result.id}"[:2048],
    }
    if result.excerpt.text:
        item["DocumentExcerpt"] = text_with_highlights(result.excerpt)
    if result.uri:
        item["DocumentURI"] = result.uri
    return item


def _answer_item(
    answer_id: str, document: dict[str, Any], answer: SuggestedAnswer
) -> dict[str, Any]:
    """Kendra's suggested answer: the passage, its answering sentence marked as the top answer."""
    item = {k: v for k, v in document.items() if k not in ("Id", "Type", "FeedbackToken")}
    text = text_with_highlights(answer.excerpt)
    for h in text["Highlights"]:
        h["TopAnswer"] = True
    item.update(
        {
            "Id": answer_id,
            "Type": "ANSWER",
            "Format": "TEXT",
            "AdditionalAttributes": [
                {
                    "Key": "AnswerText",
                    "ValueType": "TEXT_WITH_HIGHLIGHTS_VALUE",
                    "Value": {"TextWithHighlightsValue": text},
                }
            ],
            "ScoreAttributes": {"ScoreConfidence": answer.score_confidence},
            "FeedbackToken": f"{answer_id}.{document['DocumentId']}"[:2048],
        }
    )
    return item


def facet_results(facets: list[Any], types: AttributeTypes) -> list[dict[str, Any]]:
    out = []
    for facet in facets:
        kind = types.kind(facet.attribute)
        value_kind = "string" if kind == "list" else kind
        pairs = []
        for value in facet.values:
            typed = _facet_value(value.value, value_kind)
            if typed is not None:
                pairs.append({"DocumentAttributeValue": typed, "Count": value.count})
        out.append(
            {
                "DocumentAttributeKey": facet.attribute,
                "DocumentAttributeValueType": {
                    "date": "DATE_VALUE",
                    "long": "LONG_VALUE",
                    "list": "STRING_LIST_VALUE",
                }.get(kind, "STRING_VALUE"),
                "DocumentAttributeValueCountPairs": pairs,
            }
        )
    return out


def _facet_value(value: str, kind: str) -> dict[str, Any] | None:
    if kind == "long":
        try:
            return {"LongValue": int(float(value))}
        except ValueError:
            return {"StringValue": value}
    return to_kendra_value(value, kind)


def spell_corrections(text: str, suggestion: str | None) -> list[dict[str, Any]]:
    """Kendra's ``SpellCorrectedQueries`` from the engine's word-for-word suggestion."""
    if not suggestion:
        return []
    words, fixed = " ".join(text.split()).split(" "), suggestion.split(" ")
    corrections = []
    offset = 0
    for word, new in zip(words, fixed, strict=False):
        if word != new:
            corrections.append(
                {
                    "BeginOffset": offset,
                    "EndOffset": offset + len(word),
                    "Term": word,
                    "CorrectedTerm": new,
                }
            )
        offset += len(word) + 1
    return [{"SuggestedQueryText": suggestion, "Corrections": corrections}]


def featured_items(
    query_id: str, results: list[ResultItem], types: AttributeTypes, wanted: list[str] | None
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Kendra ``FeaturedResultsItems``: pinned documents the user may read."""
    items: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    for n, result in enumerate(results):
        item = _document_item(f"{query_id}-f{n}", result, types, wanted, "NOT_AVAILABLE")
        item.pop("ScoreAttributes", None)
        items.append(item)
        ids[item["Id"]] = result.id
    return items, ids


def _text_value(key: str, text: str) -> dict[str, Any]:
    return {
        "Key": key,
        "ValueType": "TEXT_WITH_HIGHLIGHTS_VALUE",
        "Value": {"TextWithHighlightsValue": {"Text": text, "Highlights": []}},
    }


def faq_items(
    query_id: str, answers: list[FaqAnswer]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Kendra ``QUESTION_ANSWER`` items: the question and its answer as additional attributes."""
    items: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    for n, answer in enumerate(answers):
        item_id = f"{query_id}-q{n}"
        item: dict[str, Any] = {
            "Id": item_id,
            "Type": "QUESTION_ANSWER",
            "Format": "TEXT",
            "DocumentId": answer.entry_id,
            "DocumentTitle": {"Text": answer.question, "Highlights": []},
            "DocumentExcerpt": {"Text": answer.answer, "Highlights": []},
            "AdditionalAttributes": [
                _text_value("QuestionText", answer.question),
                _text_value("AnswerText", answer.answer),
            ],
            "DocumentAttributes": [],
            "ScoreAttributes": {"ScoreConfidence": passage_confidence(answer.score)},
            "FeedbackToken": f"{item_id}.{answer.entry_id}"[:2048],
        }
        if answer.uri:
            item["DocumentURI"] = answer.uri
        items.append(item)
        ids[item_id] = answer.entry_id
    return items, ids
