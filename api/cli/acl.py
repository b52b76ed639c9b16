"""``quarry identity show`` and ``quarry explain``: who a user is, and why they see a document.

A principal is built by the same principal service the API uses (``search.principals``): the
given groups count everywhere, each data source's groups only for its own documents, and the
chain that leads to each group is kept for the explanation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from api.cli.common import (
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    JSON_HELP,
    Services,
    emit_json,
    fail,
    out,
    services,
)

if TYPE_CHECKING:
    from acl import AccessControlList, Explanation, Principal, Resolution

JsonOpt = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
UserOpt = Annotated[
    str | None, typer.Option("--user", "-u", help="The user id, as connectors report it.")
]
GroupsOpt = Annotated[
    str | None,
    typer.Option(
        "--groups", "-g", help="Comma-separated groups the user holds besides the directory's."
    ),
]

identity_app = typer.Typer(
    name="identity",
    help="Inspect users' group memberships.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def split_groups(groups: str | None) -> list[str]:
    return sorted({g.strip() for g in (groups or "").split(",") if g.strip()})


def principal_for(
    svc: Services, user: str | None, groups: str | None
) -> tuple[Principal, Resolution | None]:
    """The resolved principal and the resolution behind it (None for the anonymous searcher)."""
    from acl import Principal

    extra = split_groups(groups)
    if user is None or not user.strip():
        if extra:
            fail("--groups needs --user: groups belong to a user", EXIT_USAGE)
        return Principal.anonymous(), None
    resolution = svc.principals.resolution(user.strip(), extra)
    return resolution.principal(), resolution


def group_rows(resolution: Resolution | None) -> list[tuple[str, str, list[str]]]:
    """(scope, group, chain) for every group: global ones once, then each source's own."""
    if resolution is None:
        return []
    rows = [("global", g, c) for g, c in resolution.global_paths.items()]
    principal = resolution.principal()
    for source, paths in sorted(resolution.source_paths.items()):
        own = principal.sources[source].groups
        rows += [(source, g, c) for g, c in paths.items() if g in own]
    return sorted(rows, key=lambda r: (r[0] != "global", r[0], len(r[2]), r[1]))


def who(principal: Principal, shown: int = 4, data_source_id: str | None = None) -> str:
    """``user 'bob' (GROUP_a, GROUP_b, +3 more)``, escaped for rich markup: the groups that
    count for ``data_source_id``'s documents, or every group the user holds anywhere."""
    if principal.user is None:
        return "the anonymous searcher"
    if data_source_id is not None:
        held = set(principal.groups_for(data_source_id))
    else:
        held = set(principal.groups).union(*(s.groups for s in principal.sources.values()))
    groups = sorted(held - {"GROUP_EVERYONE"})
    listed = ", ".join(groups[:shown]) or "no groups"
    if len(groups) > shown:
        listed += f", +{len(groups) - shown} more"
    return f"user {escape(repr(principal.user))} ({escape(listed)})"


@identity_app.command("show")
def identity_show(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user id, as connectors report it.")],
    groups: GroupsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show every group USER searches with, where it counts and the nesting chain behind it.

    Groups given with --groups (like a token's) and administrators' global mappings count for
    every data source; groups crawled from a data source count only for its documents.

    Example: quarry identity show alice
    """
    principal, resolution = principal_for(services(ctx), user, groups)
    rows = group_rows(resolution)
    if as_json:
        emit_json(
            {
                "user": principal.user,
                "groups": [{"group": g, "scope": s, "chain": c} for s, g, c in rows],
            }
        )
        return
    if not rows:
        from search.documents import names_user

        svc = services(ctx)
        if names_user(svc.runtime.es, svc.settings.docs_alias, user):
            out.print(
                f"{escape(user)} belongs to no group in the identity store (only GROUP_EVERYONE); "
                "documents name them directly."
            )
        else:
            out.print(
                f"{escape(user)} is unknown: no group of any data source holds them and no "
                "indexed document names them. Check the spelling: ids are matched as each "
                "source writes them (`quarry identity show` takes the id, not a display name)."
            )
        return
    table = Table("group", "counts for", "how", title=f"Groups of {escape(user)}")
    for scope, group, chain in rows:
        how = "direct" if len(chain) == 1 else "via " + " → ".join(chain[:-1])
        where = "every data source" if scope == "global" else f"data source {scope}"
        table.add_row(escape(group), escape(where), escape(how))
    out.print(table)


def _document(svc: Services, doc_id: str) -> dict[str, Any]:
    from search.documents import find_document

    found = find_document(svc.runtime.es, svc.settings.docs_alias, doc_id)
    if found is None:
        fail(
            f"no document with id {doc_id!r} in the index",
            EXIT_NOT_FOUND,
            hint="Document ids look like 'DATA_SOURCE:path'; `quarry query ... --json` shows them.",
        )
    return found


def _acl(doc: dict[str, Any]) -> AccessControlList:
    from search.documents import access_list

    return access_list(doc)


def explain_document(
    svc: Services, doc_id: str, user: str | None, groups: str | None = None
) -> tuple[dict[str, Any], AccessControlList, Principal, Explanation]:
    """The indexed document, its ACL, the expanded principal and ``acl.explain``'s verdict."""
    from acl import explain

    doc = _document(svc, doc_id)
    principal, resolution = principal_for(svc, user, groups)
    acl = _acl(doc)
    source = doc.get("data_source_id")
    via = resolution.paths_for(source) if resolution is not None else {}
    return doc, acl, principal, explain(acl, principal, via=via, data_source_id=source)


def explain_cmd(
    ctx: typer.Context,
    doc_id: Annotated[str, typer.Argument(help="The document id (as shown by `quarry query`).")],
    user: UserOpt = None,
    groups: GroupsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Explain why a user can or cannot see a document.

    Prints the document's ACL, the verdict, and the entries that grant or deny it with the
    chain of nested groups through which each one matches. Exit code 0 whatever the verdict
    (3 for an unknown document id).

    Examples:

        quarry explain "handbook:hr/salaries.md" --user alice
        quarry explain "handbook:hr/salaries.md" --user bob --groups GROUP_hr --json
    """
    doc, acl, principal, verdict = explain_document(services(ctx), doc_id, user, groups)
    if as_json:
        emit_json(
            {
                "document": {
                    k: doc.get(k) for k in ("doc_id", "title", "data_source_id", "source_uri")
                },
                "acl": acl,
                "principal": {
                    "user": principal.user,
                    "groups": sorted(principal.groups_for(doc.get("data_source_id"))),
                },
                **verdict.model_dump(mode="json"),
            }
        )
        return
    title = Text("Document ", style="bold")
    title.append(str(doc.get("title") or doc_id), style="bold cyan")
    title.append(f"  ({doc_id}, data source {doc.get('data_source_id')})", style="dim")
    out.print(title)
    acl_table = Table.grid(padding=(0, 2))
    for name in ("allow_users", "allow_groups", "deny_users", "deny_groups"):
        acl_table.add_row(f"[dim]{name}[/]", escape(", ".join(getattr(acl, name)) or "-"))
    out.print(acl_table)
    mark = "[bold green]✓ CAN see it[/]" if verdict.allowed else "[bold red]✗ CANNOT see it[/]"
    out.print(f"{who(principal, data_source_id=doc.get('data_source_id'))}: {mark}")
    out.print(Text(verdict.summary))
    entries = [*verdict.denying, *verdict.granting]
    if entries:
        table = Table("effect", "entry", "matched through")
        for entry in entries:
            style = "red" if entry.effect == "deny" else "green"
            how = (
                "everyone belongs to it"
                if entry.implicit
                else "the user"
                if entry.kind == "user"
                else "direct member"
                if len(entry.via) <= 1
                else " → ".join(entry.via)
            )
            table.add_row(
                f"[{style}]{entry.effect}[/]",
                escape(f"{entry.list_name}: {entry.value}"),
                escape(how),
            )
        out.print(table)
