"""``quarry index``: the document index's statistics, a reindex into a fresh mapping, deletion and
relevance tuning."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from api.cli.common import JSON_HELP, confirm_or_abort, emit_json, out, services

app = typer.Typer(
    name="index",
    help="Inspect, rebuild or delete the document index.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

JsonOpt = Annotated[bool, typer.Option("--json", help=JSON_HELP)]


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


@app.command("stats")
def stats(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Documents, passages and size of the index, per data source.

    Example: quarry index stats --json
    """
    data = services(ctx).runtime.index.stats()
    if as_json:
        emit_json(data)
        return
    if data.get("index") is None:
        out.print(
            f"The index {escape(data['alias'])} does not exist yet (it is created on first use)."
        )
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("alias", escape(data["alias"]))
    grid.add_row("backing index", escape(data["index"]))
    grid.add_row("documents", str(data["documents"]))
    grid.add_row("passages", str(data["passages"]))
    grid.add_row("size", _size(int(data["size_bytes"])))
    grid.add_row(
        "English analysis", "yes" if data.get("english_analysis") else "no (standard analyzer)"
    )
    embedding = data.get("embedding") or {}
    recorded = embedding.get("index") or {}
    if recorded:
        grid.add_row(
            "embedding",
            escape(
                f"{recorded['model']} ({recorded['backend']}, {recorded['precision']}, "
                f"{recorded['dimensions']} dimensions)"
            ),
        )
    out.print(grid)
    if embedding.get("reindex_needed"):
        out.print(f"[yellow]Reindex needed: {escape(str(embedding.get('reason', '')))}.[/]")
    if data.get("upgrade_needed"):
        out.print(
            "[yellow]This index was built by an older Quarry: documents of case-insensitive "
            "sources (Alfresco) match nobody until you run `quarry index reindex`.[/]"
        )
    by_source = data.get("by_data_source") or {}
    if by_source:
        table = Table("data source", "documents")
        for name, count in sorted(by_source.items()):
            table.add_row(escape(name), str(count))
        out.print(table)


@app.command("reindex")
def reindex(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Copy every document into a new backing index with the current mapping, then swap the alias.

    When the configured embedding backend (QUARRY_EMBEDDING_BACKEND) makes vectors of another
    space than the index holds, every passage is embedded again. Searches keep working
    throughout. Example: quarry index reindex
    """
    runtime = services(ctx).runtime
    index = runtime.index
    old = index.ensure()  # what reindex() copies from (created empty if there was none)
    reembed = index.space_mismatch() is not None
    new = index.reindex(encode=runtime.embedder.encode if reembed else None)
    if as_json:
        emit_json({"from": old, "to": new, "reembedded": reembed, "embedding": index.space.meta()})
    else:
        how = f", passages re-embedded with {escape(index.space.describe())}" if reembed else ""
        out.print(f"Reindexed {escape(old)} → [bold]{escape(new)}[/]{how}.")


@app.command("delete")
def delete(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete the document index and every document in it (data sources stay; sync again to refill).

    Asks first, unless --yes is given. Example: quarry index delete --yes
    """
    index = services(ctx).runtime.index
    backing = index.backing_indices()
    confirm_or_abort(
        f"Delete the index {index.alias} ({', '.join(backing) or 'empty'}) and all its documents?",
        yes,
    )
    index.delete()
    if as_json:
        emit_json({"deleted": backing})
    else:
        out.print(f"Deleted {', '.join(backing) or 'nothing (no index existed)'}.")


relevance_app = typer.Typer(
    name="relevance",
    help="Show or change the index's relevance tuning (attribute importance and freshness).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(relevance_app)


@relevance_app.command("show")
def relevance_show(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The tuned attributes and their knobs (as GET /v1/index/relevance).

    Example: quarry index relevance show --json
    """
    from search.faq import DEFAULT_INDEX

    settings = services(ctx).relevance.get(DEFAULT_INDEX)
    if as_json:
        emit_json(settings.model_dump(mode="json", exclude_none=True))
        return
    if not settings.attributes:
        out.print("No relevance tuning: documents rank by text and meaning alone.")
        return
    table = Table("attribute", "tuning")
    for item in settings.attributes:
        knobs = item.relevance.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        table.add_row(escape(item.name), escape(", ".join(f"{k}={v}" for k, v in knobs.items())))
    out.print(table)


@relevance_app.command("set")
def relevance_set(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(
            help='A JSON or YAML file: {"attributes": [{"name": ..., "relevance": {...}}]}.',
            exists=True,
            dir_okay=False,
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Replace the index's relevance tuning with a file's (as PUT /v1/index/relevance); the
    next query uses it, no re-indexing.

    Example: quarry index relevance set tuning.yaml
    """
    import yaml

    from search.faq import DEFAULT_INDEX
    from search.relevance import RelevanceSettings, check_all

    svc = services(ctx)
    settings = RelevanceSettings.model_validate(yaml.safe_load(path.read_text()) or {})
    check_all("attributes", settings.attributes, svc.runtime.engine.field_types())
    svc.relevance.put(DEFAULT_INDEX, settings)
    if as_json:
        emit_json(settings.model_dump(mode="json", exclude_none=True))
    else:
        out.print(f"Tuned {len(settings.attributes)} attribute(s).")


@relevance_app.command("clear")
def relevance_clear(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove all relevance tuning of the index. Example: quarry index relevance clear --yes"""
    from search.faq import DEFAULT_INDEX

    confirm_or_abort("Remove all relevance tuning of the index?", yes)
    services(ctx).relevance.delete(DEFAULT_INDEX)
    out.print("Relevance tuning removed.")
