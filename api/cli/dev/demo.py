"""``quarry demo``: index the local Alfresco simulator and show two users seeing different results.

Run by ``make up`` once the stack is up. The crawl account's secret is written to a ``file:``
reference under ``var/`` (mode 0600) rather than an environment variable, because the worker
that reads it is a different process, started before the demo ran.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.rule import Rule
from rich.text import Text

from api.cli.acl import explain_document, principal_for
from api.cli.common import EXIT_FAILURE, EXIT_UNAVAILABLE, Services, fail, out, services
from api.cli.search import excerpt_text
from api.cli.sync import follow, print_job

if TYPE_CHECKING:
    from search.query import QueryResponse
    from sync_engine.models import SyncJob

NAME = "demo-alfresco"
ROOT = Path(__file__).resolve().parents[3]
SECRET_FILE = ROOT / "var" / "demo" / "alfresco-secret.json"
JWT_SECRET_FILE = Path(
    os.environ.get("QUARRY_DEMO_JWT_SECRET_FILE") or ROOT / "var" / "demo" / "jwt-secret"
)
"""The demo's HS256 signing secret, written by ``make up`` (deploy/stack.sh) for the API."""
MAX_TOKEN_TTL_S = 24 * 3600
SITES_PATH = "/alfresco/api/-default-/public/alfresco/versions/1/sites"
CRAWL_ACCOUNT = ("admin", "admin")
"""The simulator's administrator (devtools/alfresco_sim/sample_population.py)."""


def write_secret(path: Path, username: str, password: str) -> str:
    """Write the crawl credentials readable by this user only; return the ``file:`` reference."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"username": username, "password": password}, handle)
    os.chmod(path, 0o600)  # O_CREAT's mode does not apply to a file that already existed
    return f"file:{path.resolve()}"


def simulator_sites(site_url: str, username: str, password: str) -> list[str]:
    """Site ids the simulator generated, asked from its REST API like a real Alfresco."""
    import requests

    try:
        response = requests.get(
            site_url + SITES_PATH, params={"maxItems": 1000}, auth=(username, password), timeout=10
        )
        response.raise_for_status()
    except requests.RequestException as exc:
        fail(
            f"the Alfresco simulator at {site_url} does not answer ({type(exc).__name__})",
            EXIT_UNAVAILABLE,
            hint="Start the stack with `quarry up` (or `make up`).",
        )
    entries = response.json().get("list", {}).get("entries", [])
    sites = sorted(e["entry"]["id"] for e in entries if e.get("entry", {}).get("id"))
    if not sites:
        fail(f"the Alfresco simulator at {site_url} lists no sites")
    return sites


def _upsert(svc: Services, site_url: str, sites: list[str], secret_ref: str) -> None:
    from search.errors import Conflict, NotFound
    from sync_engine.models import DataSourceSpec

    spec = DataSourceSpec(
        name=NAME,
        type="alfresco",
        description="Demo: the local Alfresco simulator (make up)",
        config={
            "site_url": site_url,
            "site_ids": sites,
            "secret_ref": secret_ref,
            "crawl_comments": True,
        },
    )
    try:
        svc.datasources.get(NAME)
    except NotFound:
        try:
            svc.datasources.create(spec)
            out.print(f"Created data source [bold]{NAME}[/] over sites {', '.join(sites)}.")
            return
        except Conflict:  # created concurrently: fall through to update
            pass
    svc.datasources.update(NAME, spec)
    out.print(f"Updated data source [bold]{NAME}[/] (sites {', '.join(sites)}).")


def _sync(svc: Services, timeout: float) -> SyncJob:
    from connectors.models import SyncMode
    from search.errors import Conflict
    from sync_engine.models import JobStatus

    try:
        job = svc.sync.start(NAME, SyncMode.FULL, trigger="demo")
    except Conflict:  # a sync is already running (an earlier `make up`): follow that one
        running = svc.sync.active(NAME)
        if running is None:
            raise
        job = running
        out.print(f"A sync of {NAME} is already running ({job.id}); following it.")
    final = follow(svc, job, timeout=timeout)
    print_job(final)
    if final.status is not JobStatus.SUCCEEDED:
        fail(
            f"the demo sync did not succeed ({final.status.value})",
            hint=f"See `quarry sync history {NAME}` and var/log/worker.log.",
        )
    return final


def _search(svc: Services, text: str, user: str, limit: int) -> QueryResponse:
    from search.query import QueryRequest

    principal, _ = principal_for(svc, user, None)
    response = svc.runtime.engine.search(QueryRequest(query_text=text, page_size=limit), principal)
    header = Text(user, style="bold magenta")
    header.append(f" searches {text!r}: {response.total} result(s)", style="bold")
    out.print(header)
    for rank, item in enumerate(response.results, start=1):
        line = Text(f"  {rank}. ")
        line.append(item.title or item.id, style="cyan")
        out.print(line)
        out.print(Text("     ") + excerpt_text(item.excerpt), overflow="ellipsis", no_wrap=True)
    return response


def _only_for(svc: Services, response: QueryResponse, other: str) -> tuple[str, str, str] | None:
    """The best result ``other`` may not read: (doc id, title, why), checked on its ACL."""
    for item in response.results:
        _, _, _, verdict = explain_document(svc, item.id, other)
        if not verdict.allowed:
            return item.id, item.title or item.id, verdict.summary
    return None


def demo(
    ctx: typer.Context,
    query: Annotated[
        str, typer.Option(help="What the two demo users search for.")
    ] = "launch plan threat model",
    users: Annotated[
        str,
        typer.Option(
            help=(
                "Two comma-separated simulator users. The demo's: alice (engineering lead), "
                "bob (backend), carol (frontend), dave and erin (marketing), frank "
                "(contractors), grace (finance); heidi is disabled. alice's password is alice-pw, and so on."
            )
        ),
    ] = "alice,dave",
    sim_port: Annotated[
        int, typer.Option(envvar="QUARRY_SIM_PORT", help="The simulator's port.")
    ] = 8899,
    api_port: Annotated[int, typer.Option(envvar="QUARRY_API_PORT", help="The API's port.")] = 8000,
    timeout: Annotated[
        float, typer.Option(help="Give up on the sync after this many seconds.")
    ] = 900,
    secret_file: Annotated[
        Path, typer.Option(help="Where to write the crawl account's secret (mode 0600).")
    ] = SECRET_FILE,
) -> None:
    """Index the demo Alfresco repository, then search it as two users with different rights.

    Creates (or updates) the data source demo-alfresco over every site of the local simulator,
    runs a full sync with a progress bar, runs the same search as two users and prints what
    to try next. `make up` runs it after the stack is up; it is safe to run again.

    Example: quarry demo --query "salary bands" --users alice,bob
    """
    svc = services(ctx)
    who = [u.strip() for u in users.split(",") if u.strip()]
    if len(who) != 2:
        fail("--users takes exactly two user ids, e.g. alice,dave", 2)
    site_url = f"http://127.0.0.1:{sim_port}"
    sites = simulator_sites(site_url, *CRAWL_ACCOUNT)
    secret_ref = write_secret(secret_file, *CRAWL_ACCOUNT)
    out.print(Rule(f"Quarry demo: {len(sites)} Alfresco sites at {site_url}"))
    _upsert(svc, site_url, sites, secret_ref)
    _sync(svc, timeout)
    out.print(Rule("The same search, two users"))
    first = _search(svc, query, who[0], 3)
    second = _search(svc, query, who[1], 3)
    hidden = None
    for response, owner, other in ((first, who[0], who[1]), (second, who[1], who[0])):
        found = _only_for(svc, response, other)
        if found is not None:
            hidden = hidden or (found[0], other)
            out.print(
                Text.assemble(
                    ("Only ", "bold"),
                    (owner, "bold magenta"),
                    " sees ",
                    (found[1], "cyan"),
                    f": {found[2]}",
                )
            )
    if hidden is None:
        out.print("[yellow]Both users may read these results; try another --query.[/]")
    _next_steps(who, query, hidden, api_port)
    if first.total == 0 and second.total == 0:
        fail("the demo searches found nothing", EXIT_FAILURE)


def _next_steps(who: list[str], query: str, hidden: tuple[str, str] | None, api_port: int) -> None:
    out.print(Rule("Try next"))
    steps = [
        (f"http://127.0.0.1:{api_port}/", "the search console"),
        (f'quarry query "{query}" --user {who[1]}', "search as a user"),
        (f"quarry identity show {who[0]}", "a user's groups and how they nest"),
        (f"quarry token --user {who[0]}", "a signed user token for the API and the console"),
    ]
    if hidden is not None:
        steps.append((f'quarry explain "{hidden[0]}" --user {hidden[1]}', "why they cannot see it"))
    steps += [
        (f"quarry sync history {NAME}", "past syncs"),
        ("quarry index stats", "what is indexed"),
    ]
    for command, what in steps:
        out.print(Text("  ") + Text(command, style="cyan") + Text(f"   # {what}", style="dim"))


_TTL = re.compile(r"^\s*(\d+)\s*([smh]?)\s*$")


def parse_ttl(text: str) -> int:
    """``90s``, ``15m``, ``2h`` or plain seconds, at most a day: test tokens are short-lived."""
    match = _TTL.match(text)
    if not match:
        fail(f"--ttl {text!r} is not a duration: use e.g. 90s, 15m or 2h", 2)
    seconds = int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    if not 1 <= seconds <= MAX_TOKEN_TTL_S:
        fail(f"--ttl must lie between 1s and 24h, got {text!r}", 2)
    return seconds


def _signing_secret_ref() -> tuple[str, str]:
    """The HS256 secret the API verifies with, and where that choice came from."""
    from api.settings import ApiSettings

    settings = ApiSettings()
    if settings.jwt_shared_secret_ref:
        algorithms = settings.jwt_algorithms or ["HS256"]
        if "HS256" not in algorithms:
            fail(
                f"QUARRY_JWT_ALGORITHMS allows {', '.join(algorithms)}, not HS256",
                2,
                hint="quarry token signs with HS256; add it to QUARRY_JWT_ALGORITHMS.",
            )
        return settings.jwt_shared_secret_ref, "QUARRY_JWT_SHARED_SECRET_REF"
    if settings.jwt_public_key_ref or settings.jwt_jwks_file:
        setting = (
            "QUARRY_JWT_PUBLIC_KEY_REF" if settings.jwt_public_key_ref else "QUARRY_JWT_JWKS_FILE"
        )
        fail(
            f"this deployment verifies user tokens with a public key ({setting}), so only "
            "the identity provider holding the private key can issue them",
            2,
            hint="quarry token signs only where QUARRY_JWT_SHARED_SECRET_REF is set.",
        )
    if JWT_SECRET_FILE.is_file():
        return f"file:{JWT_SECRET_FILE}", f"the demo secret {JWT_SECRET_FILE} (make up)"
    fail(
        "no shared signing secret is configured: QUARRY_JWT_SHARED_SECRET_REF is not set",
        2,
        hint=(
            "Set QUARRY_JWT_SHARED_SECRET_REF=file:/path/to/secret (or env:NAME) to the secret "
            "the API verifies with; `make up` writes a demo one to var/demo/jwt-secret."
        ),
    )


def token(
    user: Annotated[str, typer.Option("--user", help="The user id the token names (its sub).")],
    groups: Annotated[
        str,
        typer.Option(
            "--groups",
            metavar="GROUP,...",
            help="Comma-separated groups the token carries (the identity store adds nested ones).",
        ),
    ] = "",
    ttl: Annotated[
        str, typer.Option("--ttl", metavar="DURATION", help="Lifetime: 90s, 15m, 2h (at most 24h).")
    ] = "15m",
) -> None:
    """Mint a short-lived HS256 user token, signed with the API's shared secret.

    For trying Quarry out and testing: the token is accepted wherever the API verifies with
    QUARRY_JWT_SHARED_SECRET_REF (after `make up`, the demo secret in var/demo/jwt-secret).
    Where tokens are verified with a public key, your identity provider issues them instead.
    Prints the token alone on stdout.

    Example: curl -s localhost:8000/v1/query -H 'content-type: application/json' -d '{"query_text": "launch plan", "user_context": {"token": "'"$(quarry token --user alice)"'"}}'
    """
    import jwt

    from acl.secrets import read_secret
    from api.settings import ApiSettings

    user = user.strip()
    if not user:
        fail("--user must name a user id, e.g. --user alice", 2)
    lifetime = parse_ttl(ttl)
    ref, source = _signing_secret_ref()
    secret = read_secret(ref)
    if len(secret.encode("utf-8")) < 32:
        fail(f"the signing secret from {source} is shorter than HS256's 32 bytes", 2)
    settings = ApiSettings()
    now = int(time.time())
    claims: dict[str, object] = {settings.jwt_user_claim: user, "iat": now, "exp": now + lifetime}
    wanted = [g.strip() for g in groups.split(",") if g.strip()]
    if wanted:
        claims[settings.jwt_groups_claim] = wanted
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    typer.echo(jwt.encode(claims, secret, algorithm="HS256"))
