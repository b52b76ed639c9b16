"""The search console: static HTML, JavaScript and CSS served at ``/`` (no build step)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"

# Only the console's own files: no inline script, no third-party origin, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(
        STATIC / "index.html",
        media_type="text/html",
        headers={
            "Content-Security-Policy": CSP,
            "Cache-Control": "no-cache",
            "Referrer-Policy": "no-referrer",
        },
    )


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC)


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """Browsers ask for ``/favicon.ico`` on their own; answer with the console's icon."""
    return FileResponse(
        STATIC / "favicon.svg",
        media_type="image/svg+xml",
        headers={"Cache-Control": "max-age=86400"},
    )
