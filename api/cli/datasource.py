"""``quarry datasource``: create, inspect, change, check and delete data sources."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from api.cli.common import (
    EXIT_FAILURE,
    EXIT_USAGE,
    JSON_HELP,
    complete_data_source,
    confirm_or_abort,
    emit_json,
    fail,
    out,
    redact,
    services,
)
from api.cli.specfile import load_spec_file

if TYPE_CHECKING:
    from sync_engine.models import DataSource

app = typer.Typer(
    name="datasource",
    help="Manage data sources (what to crawl, with which connector, on which schedule).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

FileOpt = Annotated[
    Path,
    typer.Option(
        "--file",
        "-f",
        help="Spec file: YAML, or JSON when it ends in .json; '-' reads stdin.",
        allow_dash=True,
    ),
]
NameArg = Annotated[
    str,
    typer.Argument(
        help="The data source's name (which is also its id).", autocompletion=complete_data_source
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help=JSON_HELP)]


def _show(ds: DataSource) -> None:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("name", ds.name)
    table.add_row("type", escape(ds.type))
    if ds.description:
        table.add_row("description", escape(ds.description))
    table.add_row("enabled", "yes" if ds.enabled else "no")
    table.add_row("schedule", ds.schedule or "manual only")
    table.add_row("created", f"{ds.created_at:%Y-%m-%d %H:%M:%S %Z}")
    table.add_row("updated", f"{ds.updated_at:%Y-%m-%d %H:%M:%S %Z}")
    out.print(table)
    import yaml

    out.print("[bold]config[/]")
    out.print(
        yaml.safe_dump(redact(ds.config), sort_keys=True, allow_unicode=True).rstrip(), markup=False
    )


def _shown(ds: DataSource) -> dict[str, object]:
    data = ds.model_dump(mode="json")
    data["config"] = redact(ds.config)
    return data


@app.command("create")
def create(ctx: typer.Context, file: FileOpt, as_json: JsonOpt = False) -> None:
    """Create a data source from a spec file.

    The spec is validated before anything is stored, including the connector's own config;
    each problem is reported with its line in the file (exit code 2).

    Example spec (docs.yaml):

        name: handbook
        type: filesystem
        config:
          root: /srv/handbook
          default_acl: {allow_groups: [GROUP_EVERYONE]}
        schedule: "0 * * * *"

    An Alfresco spec (intranet.yaml); the secret is a reference, never the password:

        name: intranet
        type: alfresco
        config:
          site_url: https://alfresco.example.com
          site_ids: [engineering, marketing]
          secret_ref: file:/etc/quarry/alfresco.json
          inclusion_patterns: ["^documentLibrary/"]

    Example: quarry datasource create -f intranet.yaml
    """
    spec = load_spec_file(file)
    ds = services(ctx).datasources.create(spec)
    if as_json:
        emit_json(_shown(ds))
        return
    out.print(f"Created data source [bold]{ds.name}[/] ({escape(ds.type)}).")
    out.print(
        f"Next: [cyan]quarry datasource check {ds.name}[/], then [cyan]quarry sync {ds.name} --wait[/]"
    )


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List data sources.

    Example: quarry datasource list --json | jq -r '.[].name'
    """
    svc = services(ctx)
    sources = svc.datasources.list()
    if as_json:
        emit_json([_shown(ds) for ds in sources])
        return
    if not sources:
        out.print("No data sources yet. Create one with [cyan]quarry datasource create -f FILE[/].")
        return
    documents: dict[str, int] = svc.runtime.index.stats().get("by_data_source", {})
    table = Table(
        "name", "type", "enabled", "schedule", "last sync", "status", "documents", "description"
    )
    for ds in sources:
        last = svc.sync.list(ds.name, limit=1)
        when, state = "never", "-"
        if last:
            job = last[0]
            moment = job.finished_at or job.started_at or job.created_at
            when = f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
            state = job.status.value
        table.add_row(
            ds.name,
            escape(ds.type),
            "yes" if ds.enabled else "no",
            ds.schedule or "-",
            when,
            state,
            str(documents.get(ds.name, 0)),
            escape(ds.description),
        )
    out.print(table)


@app.command("show")
def show(ctx: typer.Context, name: NameArg, as_json: JsonOpt = False) -> None:
    """Show one data source and its configuration (secrets appear only as references).

    Example: quarry datasource show handbook
    """
    ds = services(ctx).datasources.get(name)
    if as_json:
        emit_json(_shown(ds))
    else:
        _show(ds)


@app.command("update")
def update(ctx: typer.Context, name: NameArg, file: FileOpt, as_json: JsonOpt = False) -> None:
    """Replace a data source's spec with the one in FILE (the file may omit ``name``).

    Example: quarry datasource update handbook -f docs.yaml
    """
    spec = load_spec_file(file, name=name)
    if spec.name != name:
        fail(
            f"{file} names data source {spec.name!r}, not {name!r}; data sources cannot be renamed",
            EXIT_USAGE,
        )
    ds = services(ctx).datasources.update(name, spec)
    if as_json:
        emit_json(_shown(ds))
    else:
        out.print(f"Updated data source [bold]{ds.name}[/]. Changes apply from the next sync.")


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: NameArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete a data source and every document it indexed.

    Asks first, unless --yes is given (required when stdin is not a terminal).

    Example: quarry datasource delete handbook --yes
    """
    svc = services(ctx)
    svc.datasources.get(name)  # exit 3 for an unknown name before asking anything
    count = svc.runtime.index.stats().get("by_data_source", {}).get(name, 0)
    confirm_or_abort(
        f"Delete data source {name!r} and its {count} indexed document(s)? "
        "They leave search results at once.",
        yes,
    )
    removed = svc.datasources.delete(name)
    if as_json:
        emit_json({"id": name, "deleted_documents": removed})
    else:
        out.print(f"Deleted data source [bold]{name}[/] and {removed} document(s).")


@app.command("check")
def check(ctx: typer.Context, name: NameArg, as_json: JsonOpt = False) -> None:
    """Check that the connector can reach its source with this configuration (exit 1 if not).

    Example: quarry datasource check handbook
    """
    result = services(ctx).datasources.check(name)
    if as_json:
        emit_json(result)
    else:
        mark = "[green]✓[/]" if result.ok else "[red]✗[/]"
        out.print(f"{mark} {escape(name)}: {escape(result.message)}")
        for key, value in result.details.items():
            out.print(f"  {key}: {value}", markup=False)
    if not result.ok:
        raise typer.Exit(EXIT_FAILURE)
