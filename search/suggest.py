"""Autocomplete from readable document titles and from past queries, never beyond the user's ACL.

Titles are searched with the searcher's ACL filter inside the query, so a title the user may
not read cannot be returned. A past query is offered only if it finds at least one document
the current user may read (checked with the same filter), so query history cannot reveal
what lies behind documents the user cannot open.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from elasticsearch import Elasticsearch

from acl import Principal
from search.filters import acl_filter
from search.query_log import QueryLog, normalise


class Suggestion(NamedTuple):
    text: str
    source: str  # "title" (a readable document) or "query" (asked before)


def title_suggestions(
    es: Elasticsearch, alias: str, principal: Principal, prefix: str, limit: int
) -> list[str]:
    text = " ".join(prefix.split())
    response = es.search(
        index=alias,
        size=limit * 3,
        source={"includes": ["title"]},
        query={
            "bool": {
                "filter": [acl_filter(principal)],
                "should": [
                    {
                        "prefix": {
                            "title.raw": {"value": text, "case_insensitive": True, "boost": 3.0}
                        }
                    },
                    {"match_phrase_prefix": {"title": {"query": text, "max_expansions": 50}}},
                ],
                "minimum_should_match": 1,
            }
        },
    ).body
    titles: list[str] = []
    for hit in response["hits"]["hits"]:
        title = (hit.get("_source") or {}).get("title")
        if isinstance(title, str) and title.strip():
            titles.append(title.strip())
    return titles


def readable_queries(
    es: Elasticsearch, alias: str, principal: Principal, candidates: list[str]
) -> list[str]:
    """The candidates whose every word is in one document the principal may read.

    Requiring every word keeps another user's query about something hidden from being
    suggested just because one of its words is common.
    """
    if not candidates:
        return []
    searches: list[dict[str, Any]] = []
    for text in candidates:
        searches += [
            {"index": alias},
            {
                "size": 0,
                "terminate_after": 1,
                "track_total_hits": 1,
                "query": {
                    "bool": {
                        "must": [
                            {
                                "multi_match": {
                                    "query": text,
                                    "fields": ["title", "body"],
                                    "type": "cross_fields",
                                    "operator": "and",
                                }
                            }
                        ],
                        "filter": [acl_filter(principal)],
                    }
                },
            },
        ]
    responses = es.msearch(searches=searches).body["responses"]
    return [
        text
        for text, r in zip(candidates, responses, strict=True)
        if "error" not in r and r["hits"]["total"]["value"] > 0
    ]


def suggest(
    es: Elasticsearch,
    alias: str,
    log: QueryLog,
    principal: Principal,
    prefix: str,
    limit: int,
    min_users: int,
) -> list[Suggestion]:
    """Popular past queries first (what people actually ask), then matching titles."""
    past = readable_queries(es, alias, principal, log.popular(prefix, limit, min_users))
    titles = title_suggestions(es, alias, principal, prefix, limit)
    seen: set[str] = set()
    out: list[Suggestion] = []
    for text, source in [*((q, "query") for q in past), *((t, "title") for t in titles)]:
        key = normalise(text)
        if key in seen or key == normalise(prefix):
            continue
        seen.add(key)
        out.append(Suggestion(text=text, source=source))
        if len(out) >= limit:
            break
    return out
