"""``quarry sync``: start a data source's sync, follow it live, inspect and stop jobs.

Progress comes from polling the job record that the worker updates, exactly as the API's
clients do, so what the bar shows is what ``sync status`` and the console show.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn
from rich.table import Column, Table
from typer.core import TyperGroup

from api.cli.common import (
    EXIT_FAILURE,
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    JSON_HELP,
    Services,
    complete_data_source,
    emit_json,
    err,
    fail,
    out,
    services,
)
from connectors.models import SyncMode
from sync_engine.models import JobStatus, SyncJob

POLL_S = 0.5
QUEUED_HINT_S = 15.0


class _SyncGroup(TyperGroup):
    """``quarry sync NAME ...`` is short for ``quarry sync start NAME ...``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["start", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    name="sync",
    cls=_SyncGroup,
    no_args_is_help=True,
    rich_markup_mode="markdown",
    help=(
        "Run and follow syncs. `quarry sync NAME` starts one (incremental unless --full or "
        "--forced-full); `status`, `history` and `stop` inspect and control jobs."
    ),
)

NameArg = Annotated[
    str, typer.Argument(help="The data source's name.", autocompletion=complete_data_source)
]
JsonOpt = Annotated[bool, typer.Option("--json", help=JSON_HELP)]


@app.command("start")
def start(
    ctx: typer.Context,
    name: NameArg,
    full: Annotated[
        bool, typer.Option("--full", help="Re-read everything; delete what is gone.")
    ] = False,
    forced_full: Annotated[
        bool, typer.Option("--forced-full", help="Like --full, ignoring any saved checkpoint.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the job with a progress bar until it ends.")
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(help="With --wait: give up waiting after this many seconds (exit 1)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Start a sync of data source NAME (the `start` may be left out).

    Exit code with --wait: 0 when the job succeeded, 1 when it failed, was stopped or the
    timeout passed; Ctrl-C stops waiting, not the job.

    Examples:

        quarry sync handbook                 # incremental, returns at once
        quarry sync handbook --full --wait   # full pass, live progress
        quarry sync handbook --wait --json   # final job record as JSON
    """
    if full and forced_full:
        fail("give --full or --forced-full, not both", EXIT_USAGE)
    mode = SyncMode.FORCED_FULL if forced_full else SyncMode.FULL if full else SyncMode.INCREMENTAL
    svc = services(ctx)
    job = svc.sync.start(name, mode, trigger="cli")
    if mode is SyncMode.INCREMENTAL and job.mode is not SyncMode.INCREMENTAL:
        err.print(
            f"Running a {job.mode.value} sync: {escape(name)} has no successful sync to "
            "continue from, so every item is read once."
        )
    if not wait:
        if as_json:
            emit_json(job)
        else:
            out.print(f"Queued {job.mode.value} sync [bold]{job.id}[/] of {escape(name)}.")
            out.print(f"Follow it with [cyan]quarry sync status {escape(name)}[/].")
        return
    try:
        final = follow(svc, job, timeout=timeout)
    except KeyboardInterrupt:
        err.print(
            f"\nStopped waiting; the sync goes on. [cyan]quarry sync stop {escape(name)}[/] stops it."
        )
        raise typer.Exit(130) from None
    if as_json:
        emit_json(final)
    else:
        print_job(final)
    if final.status.active:
        fail(
            f"job {final.id} is still {final.status.value} after {timeout:g}s",
            hint=f"Follow it with `quarry sync status {name}`.",
        )
    if final.status is not JobStatus.SUCCEEDED:
        raise typer.Exit(EXIT_FAILURE)


def follow(svc: Services, job: SyncJob, *, timeout: float | None = None) -> SyncJob:
    """Poll the job record until it ends (or ``timeout``), drawing a live bar on stderr."""
    expected = _expected_total(svc, job)
    deadline = None if timeout is None else time.monotonic() + timeout
    meter = _Rate()
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[counts]}"),
        TextColumn("{task.fields[rate]}"),
        TextColumn("{task.fields[eta]}"),
        console=err,
    ) as progress:
        task = progress.add_task(job.data_source_id, total=None, counts="", rate="", eta="")
        while True:
            meter.add(job.stats.scanned)
            waiting = _queue_length(svc) if job.status is JobStatus.QUEUED else None
            _draw(progress, task, job, expected, meter.per_s(), waiting)
            if not job.status.active or (deadline is not None and time.monotonic() >= deadline):
                return job
            time.sleep(POLL_S)
            job = svc.sync.get(job.id)


class _Rate:
    """Items per second over the last ~20 s of polls: a current rate, not a lifetime average."""

    WINDOW_S = 20.0

    def __init__(self) -> None:
        self._samples: list[tuple[float, int]] = []

    def add(self, scanned: int) -> None:
        now = time.monotonic()
        self._samples.append((now, scanned))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.WINDOW_S:
            self._samples.pop(0)

    def per_s(self) -> float | None:
        if len(self._samples) < 2:
            return None
        (t0, n0), (t1, n1) = self._samples[0], self._samples[-1]
        if n1 <= n0 or t1 <= t0:
            return None  # nothing new yet: no rate rather than a decaying one
        return (n1 - n0) / (t1 - t0)


def _queue_length(svc: Services) -> int | None:
    """Sync tasks waiting in the broker's queue (this one included); None if unknown."""
    from sync_engine.backends import queue_length

    try:
        return queue_length(svc.settings.redis_url, svc.celery.conf.task_default_queue)
    except Exception:  # a progress detail must never break following the job
        return None


def _expected_total(svc: Services, job: SyncJob) -> int | None:
    """A full pass reads about as many items as the last successful full pass did."""
    if job.mode is SyncMode.INCREMENTAL:
        return None
    for past in svc.sync.list(job.data_source_id, limit=20):
        if (
            past.id != job.id
            and past.status is JobStatus.SUCCEEDED
            and past.mode is not SyncMode.INCREMENTAL
        ):
            return past.stats.scanned or None
    return None


def _draw(
    progress: Progress,
    task: TaskID,
    job: SyncJob,
    expected: int | None,
    rate: float | None,
    waiting: int | None,
) -> None:
    s = job.stats
    total = expected if expected is not None and expected >= s.scanned else None
    scanned = f"scanned {s.scanned}" + (f" of ~{total}" if total is not None else "")
    counts = (
        f"{scanned} · [green]added {s.added}[/] · [yellow]modified {s.modified}[/] · "
        f"[red]deleted {s.deleted}[/] · [bold red]failed {s.failed}[/]"
    )
    done = not job.status.active
    eta = ""
    if not done and total is not None and rate and total > s.scanned:
        eta = f"about {_duration((total - s.scanned) / rate)} left"
    status = _shown_status(job)
    if job.status is JobStatus.QUEUED:
        status = f"queued {_duration(_age(job.created_at))}"
        if waiting:
            status += f", {waiting} task(s) in the queue"
        if _age(job.created_at) > QUEUED_HINT_S:
            status += " (is a worker running? see quarry status)"
    elif job.status is JobStatus.RUNNING and s.scanned == 0:
        status = "running: reading the first batch"
    progress.update(
        task,
        description=f"{job.data_source_id} {job.mode.value}: {status}",
        completed=s.scanned,
        # No total, no filled bar: rich shows a pulse until the size of the pass is known.
        total=s.scanned if done else total,
        counts=counts,
        rate=f"{rate:.1f} items/s" if rate and not done else "",
        eta=eta,
    )


def _age(moment: datetime) -> float:
    return (datetime.now(UTC) - moment).total_seconds()


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _shown_status(job: SyncJob) -> str:
    """``stalled``: running without a heartbeat lately (its worker may have died)."""
    return "stalled" if job.stalled else job.status.value


_STATUS_STYLE = {
    "stalled": "yellow",
    "succeeded": "green",
    "failed": "red",
    "stopped": "yellow",
    "running": "cyan",
    "queued": "cyan",
}


_COUNTERS = ("scanned", "added", "modified", "unchanged", "deleted", "failed", "groups", "passages")


def print_job(job: SyncJob) -> None:
    """A job's outcome: status, counters, rate, and a sample of what failed."""
    style = _STATUS_STYLE.get(_shown_status(job), "")
    out.print(
        f"Sync [bold]{job.id}[/] of {escape(job.data_source_id)} "
        f"({job.mode.value}, {escape(job.trigger)}): "
        f"[{style}]{_shown_status(job)}[/] "
        + (
            f"after {_duration(job.duration_s)}"
            if job.started_at is not None
            else f"for {_duration(_age(job.created_at))}, not started yet"
        )
    )
    grid = Table.grid(padding=(0, 2))
    for _ in _COUNTERS:
        grid.add_column(justify="right")
    grid.add_row(*[f"[dim]{name}[/]" for name in _COUNTERS])
    grid.add_row(*[str(getattr(job.stats, name)) for name in _COUNTERS])
    out.print(grid)
    if job.items_per_s:
        out.print(f"[dim]{job.items_per_s:.1f} items/s[/]")
    if job.error:
        out.print(f"[red]error:[/] {escape(job.error)}")
    shown = job.errors[:5]
    for item in shown:
        out.print(f"  [red]✗[/] {escape(item.id)}: {escape(item.reason)}")
    if job.stats.failed > len(shown):
        out.print(f"  [dim]… {job.stats.failed - len(shown)} more failed item(s)[/]")


def _latest(svc: Services, name: str) -> SyncJob | None:
    jobs = svc.sync.list(name, limit=1)  # NotFound (exit 3) for an unknown data source
    return jobs[0] if jobs else None


@app.command("status")
def status(ctx: typer.Context, name: NameArg, as_json: JsonOpt = False) -> None:
    """Show the latest sync job of NAME (JSON: the job record, or null if none ran yet).

    Example: quarry sync status handbook
    """
    job = _latest(services(ctx), name)
    if as_json:
        emit_json(job)
    elif job is None:
        out.print(
            f"{escape(name)} has not been synced yet: [cyan]quarry sync {escape(name)} --wait[/]"
        )
    else:
        print_job(job)


@app.command("history")
def history(
    ctx: typer.Context,
    name: NameArg,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many jobs, newest first.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """List NAME's past sync jobs, newest first.

    Example: quarry sync history handbook --limit 5
    """
    jobs = services(ctx).sync.list(name, limit=limit)
    if as_json:
        emit_json(jobs)
        return
    if not jobs:
        out.print(f"{escape(name)} has not been synced yet.")
        return
    table = Table(
        "job",
        "mode",
        "trigger",
        "status",
        "started UTC",
        "took",
        "scanned",
        "added",
        "modified",
        "deleted",
        "failed",
        Column("error", overflow="fold", ratio=1),
    )
    for job in jobs:
        s = job.stats
        style = _STATUS_STYLE.get(_shown_status(job), "")
        started = (job.started_at or job.created_at).astimezone(UTC)
        table.add_row(
            job.id[:8],
            job.mode.value,
            escape(job.trigger),
            f"[{style}]{_shown_status(job)}[/]",
            f"{started:%m-%d %H:%M}",
            _duration(job.duration_s),
            str(s.scanned),
            str(s.added),
            str(s.modified),
            str(s.deleted),
            str(s.failed),
            escape(job.error or ""),  # whole: the table wraps it between words
        )
    out.print(table)


@app.command("stop")
def stop(ctx: typer.Context, name: NameArg, as_json: JsonOpt = False) -> None:
    """Ask NAME's running sync to stop at its next checkpoint (exit 3 if none is running).

    Example: quarry sync stop handbook
    """
    svc = services(ctx)
    job = svc.sync.active(name)
    if job is None:
        fail(f"no sync of {name!r} is running", EXIT_NOT_FOUND)
    stopped = svc.sync.stop(job.id)
    if as_json:
        emit_json(stopped)
    else:
        out.print(
            f"Asked sync {stopped.id} of {escape(name)} to stop at its next item "
            f"(now {stopped.status.value}); see [cyan]quarry sync status {escape(name)}[/]."
        )
