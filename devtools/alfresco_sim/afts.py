"""A parser and evaluator for the subset of Alfresco FTS (AFTS) a connector needs.

Supported: ``SITE:``, ``TYPE:``/``EXACTTYPE:`` (subtypes count for TYPE), ``ASPECT:``,
``ANCESTOR:``/``PARENT:``/``ID:`` (node refs or ids), ``cm:modified``/``cm:created`` with
ranges ``[a TO b]``/``<a TO b>`` over ISO dates, ``MIN``, ``MAX`` and ``NOW`` (with simple
date math), ``cm:name``/``cm:title``/``cm:description``/``TEXT`` and bare words or
phrases (``*`` wildcards), ``AND``/``OR``/``NOT``, ``-``, ``+``, parentheses. Anything
else is refused with 400 so a connector never relies on behaviour nobody checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from devtools.alfresco_sim.http_types import ApiError

FIELDS = {
    "site": "SITE",
    "type": "TYPE",
    "exacttype": "EXACTTYPE",
    "aspect": "ASPECT",
    "exactaspect": "ASPECT",
    "ancestor": "ANCESTOR",
    "parent": "PARENT",
    "id": "ID",
    "text": "TEXT",
    "cm:content": "TEXT",
    "content": "TEXT",
    "cm:modified": "cm:modified",
    "modified": "cm:modified",
    "cm:created": "cm:created",
    "created": "cm:created",
    "cm:name": "cm:name",
    "name": "cm:name",
    "cm:title": "cm:title",
    "title": "cm:title",
    "cm:description": "cm:description",
    "description": "cm:description",
    "cm:creator": "cm:creator",
    "creator": "cm:creator",
    "cm:modifier": "cm:modifier",
    "modifier": "cm:modifier",
}
DATE_FIELDS = frozenset({"cm:modified", "cm:created"})

_FIELD = re.compile(r"@?([A-Za-z][\w-]*(?:(?:\\:|:|_)[A-Za-z][\w.-]*)?):(?=\S)")
_BARE = re.compile(r"[^\s()\"'\[\]<>{}]+")
_NOW = re.compile(
    r"^NOW(?:/(DAY|HOUR|MINUTE))?(?:([+-])(\d+)(DAYS?|HOURS?|MINUTES?|SECONDS?))?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Term:
    field: str
    value: str


@dataclass(frozen=True)
class Range:
    field: str
    lower: str
    upper: str
    include_lower: bool
    include_upper: bool


@dataclass(frozen=True)
class BoolOp:
    op: Literal["AND", "OR"]
    items: tuple[Query, ...]


@dataclass(frozen=True)
class Not:
    item: Query


Query = Term | Range | BoolOp | Not
Token = tuple[str, object]


def _field_name(raw: str) -> str:
    key = raw.replace("\\:", ":").lower()
    if key.startswith("cm_"):
        key = "cm:" + key[3:]
    if key not in FIELDS:
        raise ApiError(400, f"Query field {raw} is not supported by the simulator")
    return FIELDS[key]


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    quote, position, chars = text[start], start + 1, []
    while position < len(text) and text[position] != quote:
        if text[position] == "\\" and position + 1 < len(text):
            position += 1
        chars.append(text[position])
        position += 1
    if position >= len(text):
        raise ApiError(400, f"Unterminated quoted value in query: {text}")
    return "".join(chars), position + 1


def _read_range(text: str, start: int, field: str) -> tuple[Range, int]:
    end = next((i for i in range(start + 1, len(text)) if text[i] in "]>"), -1)
    if end < 0:
        raise ApiError(400, f"Unterminated range in query: {text}")
    parts = re.split(r"\s+TO\s+", text[start + 1 : end].strip())
    if len(parts) != 2:
        raise ApiError(400, f"Range must read 'lower TO upper': {text[start : end + 1]}")
    lower, upper = (p.strip().strip("\"'") for p in parts)
    return Range(field, lower, upper, text[start] == "[", text[end] == "]"), end + 1


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
        elif char in "()":
            tokens.append((char, None))
            position += 1
        elif text.startswith(("&&", "||"), position):
            tokens.append(("AND" if char == "&" else "OR", None))
            position += 2
        elif char in "!-" and position + 1 < len(text) and not text[position + 1].isspace():
            tokens.append(("NOT", None))
            position += 1
        elif char == "+":
            position += 1
        elif match := _FIELD.match(text, position):
            field = _field_name(match.group(1))
            position = match.end()
            if text[position] in "[<":
                query, position = _read_range(text, position, field)
                if field not in DATE_FIELDS:
                    raise ApiError(400, f"Ranges are supported on dates only, not {field}")
                tokens.append(("QUERY", query))
            elif text[position] in "\"'":
                value, position = _read_quoted(text, position)
                tokens.append(("QUERY", Term(field, value)))
            else:
                bare = _BARE.match(text, position)
                if bare is None:
                    raise ApiError(400, f"Missing value for field {field}")
                tokens.append(("QUERY", Term(field, bare.group(0))))
                position = bare.end()
        elif char in "\"'":
            value, position = _read_quoted(text, position)
            tokens.append(("QUERY", Term("TEXT", value)))
        elif bare := _BARE.match(text, position):
            word = bare.group(0)
            if word.endswith(":"):
                raise ApiError(400, f"Missing value for field {word[:-1]}")
            upper = word.upper()
            tokens.append(
                (upper, None) if upper in ("AND", "OR", "NOT") else ("QUERY", Term("TEXT", word))
            )
            position = bare.end()
        else:
            raise ApiError(400, f"Cannot parse query near: {text[position:]}")
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token], default_operator: Literal["AND", "OR"]) -> None:
        self.tokens = tokens
        self.position = 0
        self.default = default_operator

    def peek(self) -> str | None:
        return self.tokens[self.position][0] if self.position < len(self.tokens) else None

    def parse(self) -> Query:
        query = self.parse_or()
        if self.peek() is not None:
            raise ApiError(400, "Unexpected token in query: unbalanced parentheses?")
        return query

    def _starts_operand(self) -> bool:
        return self.peek() in ("QUERY", "(", "NOT")

    def parse_or(self) -> Query:
        items = [self.parse_and()]
        while self.peek() == "OR" or (self.default == "OR" and self._starts_operand()):
            if self.peek() == "OR":
                self.position += 1
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else BoolOp("OR", tuple(items))

    def parse_and(self) -> Query:
        items = [self.parse_unary()]
        while self.peek() == "AND" or (self.default == "AND" and self._starts_operand()):
            if self.peek() == "AND":
                self.position += 1
            items.append(self.parse_unary())
        return items[0] if len(items) == 1 else BoolOp("AND", tuple(items))

    def parse_unary(self) -> Query:
        kind = self.peek()
        if kind is None:
            raise ApiError(400, "Query ended where a term was expected")
        kind, value = self.tokens[self.position]
        self.position += 1
        if kind == "NOT":
            return Not(self.parse_unary())
        if kind == "(":
            inner = self.parse_or()
            if self.peek() != ")":
                raise ApiError(400, "Missing closing parenthesis in query")
            self.position += 1
            return inner
        if kind == "QUERY" and isinstance(value, Term | Range):
            return value
        raise ApiError(400, f"Unexpected {kind} in query")


def parse(text: str, default_operator: Literal["AND", "OR"] = "OR") -> Query:
    if not text.strip():
        raise ApiError(400, "Empty query")
    return _Parser(tokenize(text), default_operator).parse()


def parse_date(value: str, now: datetime) -> datetime:
    """ISO dates (with or without time, ``Z``/``+0000``), ``MIN``, ``MAX``, ``NOW[...]``."""
    text = value.strip()
    if text.upper() == "MIN":
        return datetime.min.replace(tzinfo=UTC)
    if text.upper() == "MAX":
        return datetime.max.replace(tzinfo=UTC)
    if match := _NOW.match(text):
        moment = now
        rounding, sign, amount, unit = match.groups()
        if rounding:
            moment = moment.replace(second=0, microsecond=0)
            if rounding.upper() in ("HOUR", "DAY"):
                moment = moment.replace(minute=0)
            if rounding.upper() == "DAY":
                moment = moment.replace(hour=0)
        if sign:
            unit_name = unit.upper().rstrip("S").lower() + "s"
            delta = timedelta(**{unit_name: int(amount)})
            moment = moment + delta if sign == "+" else moment - delta
        return moment
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(400, f"Invalid date in query: {value}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
