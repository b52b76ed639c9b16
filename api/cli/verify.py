"""``quarry verify``: compare a data source's index with its source, and optionally repair."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from api.cli.common import EXIT_FAILURE, JSON_HELP, complete_data_source, emit_json, out, services


def verify(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(help="Data source name.", autocompletion=complete_data_source)
    ],
    sample: Annotated[
        int | None,
        typer.Option("--sample", min=1, help="Compare only N random source documents."),
    ] = None,
    repair: Annotated[
        bool,
        typer.Option("--repair", help="Re-write stale or missing documents, delete extra ones."),
    ] = False,
    history: Annotated[
        bool, typer.Option("--history", help="List the last verifications instead of running one.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Check that the index equals the source: missing, extra, stale content, stale ACLs.

    Exits 1 when drift was found (even if --repair fixed it), 0 when the index is clean.

    Examples: quarry verify handbook · quarry verify intranet --sample 200 --repair ·
    quarry verify handbook --history
    """
    if history:
        _history(ctx, name, as_json)
        return
    record = services(ctx).verifier.run(name, sample=sample, repair=repair)
    if as_json:
        emit_json(record)
    else:
        mark = "[green]✓[/]" if record.drift == 0 else "[red]✗[/]"
        out.print(
            f"{mark} {escape(name)}: {record.status}, drift {record.drift} "
            f"({record.compared} of {record.source_documents} source documents compared, "
            f"{record.unreadable} unreadable)"
        )
        for label in ("missing", "extra", "stale_content", "stale_acl"):
            ids = getattr(record, label)
            if ids:
                out.print(f"  {label}: {len(ids)} e.g. {escape(', '.join(ids[:5]))}")
        if record.repair and record.drift:
            out.print(f"  repaired: {record.repaired}")
    if record.drift:
        raise typer.Exit(EXIT_FAILURE)


def _history(ctx: typer.Context, name: str, as_json: bool) -> None:
    from rich.table import Table

    records = services(ctx).verifier.history(name)
    if as_json:
        emit_json(records)
        return
    if not records:
        out.print(f"{escape(name)} has not been verified yet: run `quarry verify {escape(name)}`.")
        return
    table = Table(
        "started",
        "status",
        "drift",
        "compared",
        "repaired",
        title=f"Verifications of {escape(name)}",
    )
    for r in records:
        table.add_row(
            r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            r.status,
            str(r.drift),
            f"{r.compared}/{r.source_documents}",
            str(r.repaired),
        )
    out.print(table)
