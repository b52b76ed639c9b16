"""``quarry identity show`` and ``quarry explain``: who a user is, and why they see a document.

A principal is built the way the API builds it (``api.auth.Caller.principal``): the given
groups plus the identity store's groups for the user, expanded through nested groups, with
the chain that leads to each group kept for the explanation.
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
    from acl import AccessControlList, Explanation, Principal

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
) -> tuple[Principal, dict[str, list[str]]]:
    """The expanded principal and, per group, the membership chain that leads to it."""
    from acl import Principal

    extra = split_groups(groups)
    if user is None or not user.strip():
        if extra:
            fail("--groups needs --user: groups belong to a user", EXIT_USAGE)
        return Principal.anonymous(), {}
    paths = svc.runtime.identities.membership_paths(user.strip(), extra)
    return Principal(user=user.strip(), groups=frozenset(paths)), paths


def who(principal: Principal, shown: int = 4) -> str:
    """``user 'bob' (GROUP_a, GROUP_b, +3 more)``, escaped for rich markup."""
    if principal.user is None:
        return "the anonymous searcher"
    groups = sorted(principal.groups)
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
    """Show every group USER searches with, and the nesting chain that leads to each.

    Example: quarry identity show alice
    """
    principal, paths = principal_for(services(ctx), user, groups)
    ordered = sorted(paths.items(), key=lambda kv: (len(kv[1]), kv[0]))
    if as_json:
        emit_json(
            {"user": principal.user, "groups": [{"group": g, "chain": c} for g, c in ordered]}
        )
        return
    if not ordered:
        out.print(
            f"{escape(user)} belongs to no group in the identity store (only GROUP_EVERYONE)."
        )
        return
    table = Table("group", "how", title=f"Groups of {escape(user)}")
    for group, chain in ordered:
        how = "direct" if len(chain) == 1 else "via " + " → ".join(chain[:-1])
        table.add_row(escape(group), escape(how))
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
    principal, paths = principal_for(svc, user, groups)
    acl = _acl(doc)
    return doc, acl, principal, explain(acl, principal, via=paths)


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
                "principal": {"user": principal.user, "groups": sorted(principal.groups)},
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
    out.print(f"{who(principal)}: {mark}")
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
