"""``quarry``: the administrator's command line, a thin shell over the services the API uses.

Commands live in ``api/cli/*.py`` by topic; this module assembles them and owns the one place
where errors become exit codes: 0 ok, 1 failure, 2 usage or validation error, 3 not found,
4 conflict, 5 backend unavailable. It must not import the FastAPI app (start-up stays fast
and ``quarry`` works where only the worker's dependencies are installed).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from api.cli import acl as cli_acl
from api.cli import datasource as cli_datasource
from api.cli import index as cli_index
from api.cli import search as cli_search
from api.cli import sync as cli_sync
from api.cli import verify as cli_verify
from api.cli.common import Services, report
from api.cli.dev import demo as cli_demo
from api.cli.dev import stack as cli_stack

EPILOG = (
    "Exit codes: 0 ok, 1 failure, 2 usage or validation error, 3 not found, 4 conflict, "
    "5 backend unavailable. Settings come from QUARRY_* environment variables "
    "(QUARRY_ES_URL, QUARRY_REDIS_URL, QUARRY_INDEX_PREFIX, ...)."
)


_TYPE_WORDS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "bool": "", "path": "PATH"}


def _type_word(shown: str | None) -> str | None:
    """Typer's ``<str>``, ``<int range>``, ``<bool>`` as the words click's help uses (or none)."""
    if shown is None:
        return None
    bare = shown.strip("<>").removesuffix(" range")
    if "|" in bare:  # choices read as they are typed
        return bare
    word = _TYPE_WORDS.get(bare, bare.upper())
    return word or None


def _option_type(self: TyperOption, ctx: Any) -> str | None:
    if self.is_flag or self.count:
        return None  # a flag takes no value: no label
    if self.metavar is not None:
        return self.metavar
    return _type_word(self.display_type(ctx))


def _argument_usage(self: TyperArgument) -> str:
    name = self.display_name_raw.upper() if self.metavar is None else self.display_name_raw
    name = name if self.required else f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


# Help reads `--user TEXT` and `quarry query [OPTIONS] TEXT`, not `<str>`, `<bool>`, `{text}`.
TyperOption.display_type_rich = _option_type  # type: ignore[method-assign]
TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]
TyperArgument._usage_display_name = _argument_usage  # type: ignore[method-assign]


class _QuarryGroup(TyperGroup):
    """Turns the errors every command may meet into one stderr line and a stable exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            code = report(exc)
            if code is None:
                raise
            raise typer.Exit(code) from None


app = typer.Typer(
    name="quarry",
    cls=_QuarryGroup,
    help=(
        "Administer Quarry: data sources, syncs, test searches as a user, explain ACL decisions, "
        "the index and the local stack.\n\n"
        "Start here: quarry up, then quarry demo. Every read command takes --json."
    ),
    epilog=EPILOG,
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_show_locals=False,  # locals may hold tokens or secrets
)


@app.callback()
def _root(ctx: typer.Context) -> None:
    ctx.obj = Services()


app.add_typer(cli_datasource.app)
app.add_typer(cli_sync.app)
app.add_typer(cli_index.app)
app.add_typer(cli_acl.identity_app)
app.command("query")(cli_search.query)
app.command("explain")(cli_acl.explain_cmd)
app.command("verify")(cli_verify.verify)
app.command("token")(cli_demo.token)
app.command("up", rich_help_panel="Local stack")(cli_stack.up)
app.command("down", rich_help_panel="Local stack")(cli_stack.down)
app.command("status", rich_help_panel="Local stack")(cli_stack.status)
app.command("demo", rich_help_panel="Local stack")(cli_demo.demo)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point (``quarry = "api.cli:main"``)."""
    # The embedding model loads inside commands; its download bars would only clutter stderr.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    result = app(args=argv, prog_name="quarry")
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
