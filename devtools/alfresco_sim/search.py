"""The Search API (``POST .../search/versions/1/search``) over the in-memory repository.

Results are live nodes the caller may read, matching the AFTS query and every filter
query, optionally hidden for ``search_lag_ms`` after their last change (the real index
trails the repository by seconds). ``include`` accepts only the values the definition's
``RequestInclude`` enum lists: permissions are not among them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from devtools.alfresco_sim.afts import (
    DATE_FIELDS,
    BoolOp,
    Not,
    Query,
    Range,
    Term,
    parse,
    parse_date,
)
from devtools.alfresco_sim.content_model import is_subtype
from devtools.alfresco_sim.http_types import ApiError, Context, JsonResponse
from devtools.alfresco_sim.model import Node
from devtools.alfresco_sim.render import Views, paginate, restrict_fields
from devtools.alfresco_sim.repository import Repository
from devtools.alfresco_sim.text_index import tokens

SEARCH_INCLUDES = frozenset(
    {
        "allowableOperations",
        "aspectNames",
        "isLink",
        "isLocked",
        "path",
        "properties",
        "isFavorite",
    }
)
SORT_FIELDS: dict[str, Callable[[Node], Any]] = {
    "cm:modified": lambda n: n.modified_at,
    "modified": lambda n: n.modified_at,
    "cm:created": lambda n: n.created_at,
    "created": lambda n: n.created_at,
    "cm:name": lambda n: n.name.casefold(),
    "name": lambda n: n.name.casefold(),
}


class _Matcher:
    """Evaluates a parsed query against nodes, caching per-node derived values."""

    def __init__(self, repository: Repository, now: datetime) -> None:
        self.repo = repository
        self.now = now

    def score(self, query: Query, node: Node) -> float | None:
        """None when ``node`` does not match; otherwise the count of matched terms (min 1)."""
        if isinstance(query, BoolOp):
            scores = [self.score(item, node) for item in query.items]
            hits = [s for s in scores if s is not None]
            if query.op == "AND" and len(hits) < len(scores):
                return None
            return sum(hits) if hits else None
        if isinstance(query, Not):
            return None if self.score(query.item, node) is not None else 0.0
        if isinstance(query, Range):
            return 1.0 if self._in_range(query, node) else None
        return 1.0 if self._term(query, node) else None

    def _in_range(self, query: Range, node: Node) -> bool:
        value = node.modified_at if query.field == "cm:modified" else node.created_at
        lower, upper = parse_date(query.lower, self.now), parse_date(query.upper, self.now)
        above = value >= lower if query.include_lower else value > lower
        below = value <= upper if query.include_upper else value < upper
        return above and below

    def _term(self, term: Term, node: Node) -> bool:
        field, value = term.field, term.value
        if value == "*":
            return True
        if field == "SITE":
            return self.repo.site_id_of(node) == value
        if field == "TYPE":
            return is_subtype(node.node_type, value)
        if field == "EXACTTYPE":
            return node.node_type == value
        if field == "ASPECT":
            return value in node.aspects
        if field in ("ANCESTOR", "PARENT", "ID"):
            node_id = value.removeprefix("workspace://SpacesStore/")
            if field == "ID":
                return node.id == node_id
            if field == "PARENT":
                return node.parent_id == node_id
            return any(a.id == node_id for a in self.repo.ancestors(node))
        if field in DATE_FIELDS:
            moment = node.modified_at if field == "cm:modified" else node.created_at
            target = parse_date(value, self.now)
            if len(value.strip()) == 10:
                return moment.date() == target.date()
            return moment == target
        if field in ("cm:creator", "cm:modifier"):
            return (node.created_by if field == "cm:creator" else node.modified_by) == value
        return _text_match(value, self._text(field, node))

    @staticmethod
    def _text(field: str, node: Node) -> str:
        title = str(node.properties.get("cm:title", ""))
        description = str(node.properties.get("cm:description", ""))
        if field == "cm:name":
            return node.name
        if field == "cm:title":
            return title
        if field == "cm:description":
            return description
        body = node.content.text if node.content else ""
        return " ".join((node.name, title, description, body))


def _text_match(value: str, text: str) -> bool:
    """All of ``value``'s tokens appear consecutively in ``text`` (``*``/``?`` wildcards)."""
    wanted = [w for w in re.split(r"[^\w*?]+", value.casefold()) if w]
    if not wanted:
        return False
    words = tokens(text)
    patterns = [
        re.compile(re.escape(w).replace(r"\*", r"\w*").replace(r"\?", r"\w") + "$") for w in wanted
    ]
    for start in range(len(words) - len(patterns) + 1):
        if all(p.match(words[start + i]) for i, p in enumerate(patterns)):
            return True
    return False


def _paging(body: dict[str, Any]) -> tuple[int, int]:
    paging = body.get("paging") or {}
    try:
        max_items = int(paging.get("maxItems", 100))
        skip_count = int(paging.get("skipCount", 0))
    except (TypeError, ValueError) as exc:
        raise ApiError(400, f"Invalid paging: {paging}") from exc
    if max_items < 1 or skip_count < 0:
        raise ApiError(400, f"Invalid paging: {paging}")
    return skip_count, max_items


def _request(body: Any) -> tuple[str, list[str], Literal["AND", "OR"]]:
    if not isinstance(body, dict) or not isinstance(body.get("query"), dict):
        raise ApiError(400, "The search body needs a query object")
    query = body["query"]
    if not isinstance(query.get("query"), str):
        raise ApiError(400, "query.query must be a string")
    if query.get("language", "afts") != "afts":
        raise ApiError(
            400, f"Query language {query.get('language')} is not supported by the simulator"
        )
    locations = (body.get("scope") or {}).get("locations", "nodes")
    if locations not in ("nodes", ["nodes"]):
        raise ApiError(400, f"Search scope {locations} is not supported by the simulator")
    include = body.get("include") or []
    if not isinstance(include, list) or set(include) - SEARCH_INCLUDES:
        raise ApiError(400, f"Invalid include parameter: {include}")
    operator = (body.get("defaults") or {}).get("defaultFTSOperator", "AND")
    if operator not in ("AND", "OR"):
        raise ApiError(400, f"Invalid defaultFTSOperator: {operator}")
    return query["query"], include, "AND" if operator == "AND" else "OR"


def search(context: Context) -> JsonResponse:
    body = context.request.json()
    text, include, operator = _request(body)
    skip_count, max_items = _paging(body)
    queries = [parse(text, operator)]
    for filter_query in body.get("filterQueries") or []:
        if not isinstance(filter_query, dict) or not isinstance(filter_query.get("query"), str):
            raise ApiError(400, "filterQueries entries need a query string")
        queries.append(parse(filter_query["query"], operator))
    repo, user = context.repository, context.request.user
    with repo.lock:
        now = repo.now()
        visible_before = now - timedelta(milliseconds=context.faults.search_lag_ms)
        matcher = _Matcher(repo, now)
        readable = repo.reader(user)
        hits: list[tuple[float, Node]] = []
        for node in repo.nodes.values():
            if node.changed_at is not None and node.changed_at > visible_before:
                continue
            scores = [matcher.score(q, node) for q in queries]
            if any(s is None for s in scores) or not readable(node):
                continue
            hits.append((max(1.0, scores[0] or 0.0), node))
        hits = _sorted(hits, body.get("sort") or [])
        page, pagination = paginate(hits, skip_count, max_items)
        views = Views(repo, user, short_paths=True)
        fields = list(body.get("fields") or [])
        entries = []
        for score, node in page:
            entry = views.node(node, include, child=True)
            entry["search"] = {"score": score}
            entries.append({"entry": restrict_fields(entry, fields)})
        context_info = {"consistency": {"lastTxId": repo.transaction}}
    return JsonResponse(
        200, {"list": {"pagination": pagination, "context": context_info, "entries": entries}}
    )


def _sorted(hits: list[tuple[float, Node]], sort: list[Any]) -> list[tuple[float, Node]]:
    ordered = sorted(hits, key=lambda hit: (-hit[0], -hit[1].modified_at.timestamp(), hit[1].id))
    for spec in reversed(sort):
        if not isinstance(spec, dict):
            raise ApiError(400, f"Invalid sort: {spec}")
        kind, ascending = spec.get("type", "FIELD"), spec.get("ascending", False) in (True, "true")
        if kind == "SCORE":
            ordered.sort(key=lambda hit: hit[0], reverse=not ascending)
        elif kind == "FIELD" and spec.get("field") in SORT_FIELDS:
            key = SORT_FIELDS[spec["field"]]
            ordered.sort(key=lambda hit: key(hit[1]), reverse=not ascending)
        else:
            raise ApiError(400, f"Sort {spec} is not supported by the simulator")
    return ordered
