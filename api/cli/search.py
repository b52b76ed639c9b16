"""``quarry query``: test a search as a given user, with highlighted excerpts."""

from __future__ import annotations

import json
import sys
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.text import Text

from api.cli.acl import GroupsOpt, JsonOpt, UserOpt, principal_for, who
from api.cli.common import EXIT_USAGE, Services, describe_validation, emit_json, fail, out, services

if TYPE_CHECKING:
    from acl import Principal
    from search.filters import AttributeFilter
    from search.query import Excerpt, QueryResponse


def _token_principal(svc: Services, token: str) -> Principal:
    """Resolve a user-context token under the API's token settings (``QUARRY_JWT_*``)."""
    from api.settings import api_settings

    if token == "-":  # from stdin, so that it appears neither in `ps` nor in shell history
        token = sys.stdin.readline().strip()
    # The deployment's resolver: a refused token type names the QUARRY_JWT_* setting it lacks.
    return svc.principals.from_token(token, api_settings(svc.settings).token_resolver())


FILTER_OPERATORS = (
    "Quarry's: and_all, or_all, not, equals_to, contains_any, contains_all, greater_than, "
    "greater_than_or_equals, less_than, less_than_or_equals with {key, value}; Kendra's: "
    "AndAllFilters, OrAllFilters, NotFilter, EqualsTo, ContainsAny, ContainsAll, GreaterThan, "
    "GreaterThanOrEquals, LessThan, LessThanOrEquals with {Key, Value: {StringValue | "
    "StringListValue | LongValue | DateValue}}"
)


def _filter(value: str | None) -> AttributeFilter | None:
    """An attribute filter given inline as JSON, or as @FILE: Quarry's form or Kendra's own."""
    if value is None:
        return None
    from search.filters import AttributeFilter

    text = value
    if value.startswith("@"):
        try:
            text = Path(value[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"cannot read filter file {value[1:]}: {exc.strerror}", EXIT_USAGE)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(
            f"--filter-json is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            EXIT_USAGE,
        )
    if isinstance(data, dict) and any(k[:1].isupper() for k in data):
        # Kendra's AttributeFilter, converted by the Kendra face's own translation.
        from api.kendra.attributes import to_filter
        from api.kendra.errors import KendraError

        try:
            return to_filter(data, "--filter-json")
        except KendraError as exc:
            fail(f"{exc.message}. Operators: {FILTER_OPERATORS}", EXIT_USAGE)
        except ValidationError as exc:
            fail(f"--filter-json: {describe_validation(exc)}", EXIT_USAGE)
    try:
        return AttributeFilter.model_validate(data)
    except ValidationError as exc:
        fail(
            f"--filter-json: {describe_validation(exc)}. Operators: {FILTER_OPERATORS}",
            EXIT_USAGE,
        )


HIGHLIGHT = "bold yellow"


def excerpt_text(excerpt: Excerpt) -> Text:
    """The excerpt on one line, its highlight offsets in bold (text is never parsed as markup).

    Whitespace runs collapse to one space, so offsets are mapped character by character.
    """
    marked = [False] * len(excerpt.text)
    for h in excerpt.highlights:
        for i in range(max(h.begin, 0), min(h.end, len(marked))):
            marked[i] = True
    chars: list[tuple[str, bool]] = []
    for ch, hit in zip(excerpt.text, marked, strict=True):
        if ch.isspace():
            if chars and chars[-1][0] == " ":
                continue
            ch = " "
        chars.append((ch, hit))
    text = Text()
    for hit, run in groupby(chars, key=lambda c: c[1]):
        text.append("".join(c for c, _ in run), style=HIGHLIGHT if hit else "")
    return text


def _print_results(
    response: QueryResponse, principal: Principal, page: int, page_size: int
) -> None:
    first = (page - 1) * page_size + 1
    out.print(f"[bold]{response.total}[/] result(s) for {who(principal)}", highlight=False)
    if response.spell_suggestion:
        out.print(f"Did you mean: [italic]{escape(response.spell_suggestion)}[/]?")
    for rank, item in enumerate(response.results, start=first):
        title = Text(f"{rank}. ", style="bold")
        title.append(item.title or item.id, style="bold cyan")
        title.append(f"  score {item.score:.3f}", style="dim")
        out.print(title)
        out.print(Text("   ") + excerpt_text(item.excerpt))
        meta = Text(f"   {item.id}", style="dim")
        if item.data_source_id:
            meta.append(f"  · {item.data_source_id}", style="dim")
        if item.folder:
            meta.append(f"  · {item.folder}", style="dim")
        if item.uri:
            meta.append(f"  · {item.uri}", style="dim")
        out.print(meta)
        if item.also_in:  # exact copies the user may read, collapsed into this result
            places = ", ".join(
                ": ".join(p for p in (c.data_source_id, c.folder) if p) or c.id
                for c in item.also_in
            )
            more = item.also_in_total - len(item.also_in)
            if more > 0:
                places += f" and {more} more"
            out.print(Text(f"   Also in: {places}", style="dim"))
    shown = first + len(response.results) - 1
    if response.total > shown:
        out.print(f"[dim]Showing {first}-{shown}; next page: --page {page + 1}[/]")


def query(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="What to search for.")],
    user: UserOpt = None,
    groups: GroupsOpt = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="A user-context token (JWT or trusted JSON) verified as the API does; '-' reads "
            "it from stdin."
        ),
    ] = None,
    page: Annotated[int, typer.Option(min=1, help="Page number, from 1.")] = 1,
    page_size: Annotated[int, typer.Option(min=1, help="Results per page.")] = 10,
    filter_json: Annotated[
        str | None,
        typer.Option(
            help=(
                "An attribute filter as JSON, in Quarry's form or Kendra's AttributeFilter "
                "(EqualsTo, AndAllFilters, ...), or @FILE."
            )
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Search as a given user: their groups come from the identity store, as in the API.

    Without --user or --token the search runs as the anonymous searcher (public documents).

    Examples:

        quarry query "vacation policy" --user alice
        quarry query "budget" --user bob --groups GROUP_finance --page-size 5
        quarry query "roadmap" --filter-json '{"equals_to": {"key": "_category", "value": "file"}}'
        quarry query "roadmap" --filter-json '{"EqualsTo": {"Key": "_category", "Value": {"StringValue": "wiki"}}}'
    """
    from search.query import QueryRequest

    if token is not None and (user is not None or groups is not None):
        fail("give --token or --user/--groups, not both", EXIT_USAGE)
    svc = services(ctx)
    principal = (
        _token_principal(svc, token) if token is not None else principal_for(svc, user, groups)[0]
    )
    request = QueryRequest(
        query_text=text,
        page_number=page,
        page_size=page_size,
        attribute_filter=_filter(filter_json),
    )
    from api.cli.remote import remote_search

    response = remote_search(request, principal, svc.settings.docs_alias)
    if response is None:
        response = svc.runtime.engine.search(request, principal)
    if as_json:
        emit_json(
            {
                "principal": svc.principals.describe(principal),
                **response.model_dump(mode="json"),
            }
        )
    else:
        _print_results(response, principal, page, page_size)
