"""``quarry query`` through the running API when one is reachable.

Answering in-process means loading the embedding model (sentence-transformers and torch take
~16 s to import on a small machine); the API has it loaded and answers in ~0.1 s. The CLI
resolves the principal itself (identity store, token) exactly as before and asks the API to
search as that user with the admin key ("test as user"), so the results and the principal
printed are the same either way. Without a reachable API or an admin key it searches
in-process.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from acl import Principal
    from search.query import QueryRequest, QueryResponse

DEFAULT_API_URL = "http://127.0.0.1:8000"
DEFAULT_ADMIN_KEY_REF = f"file:{Path(__file__).resolve().parent.parent / 'var' / 'admin.key'}"


def _admin_key() -> str | None:
    """The admin key from ``QUARRY_ADMIN_KEY_REF`` (a secret reference), else ``var/admin.key``."""
    from acl.secrets import read_secret

    ref = os.environ.get("QUARRY_ADMIN_KEY_REF", DEFAULT_ADMIN_KEY_REF)
    try:
        return read_secret(ref).strip() or None
    except Exception:  # no key: search in-process instead
        return None


def remote_search(request: QueryRequest, principal: Principal, index: str) -> QueryResponse | None:
    """The API's answer, or None when it cannot give one (then the caller searches itself).

    ``QUARRY_API_URL`` names the API (default http://127.0.0.1:8000); ``QUARRY_API_URL=off``
    always searches in-process. An API that searches another index than ``index`` (the
    CLI's own settings) is not used.
    """
    import httpx

    from search.query import QueryResponse

    url = os.environ.get("QUARRY_API_URL", DEFAULT_API_URL).rstrip("/")
    if url == "off":
        return None
    body = request.model_dump(mode="json", exclude_none=True)
    headers: dict[str, str] = {}
    if principal.user is not None or principal.groups:
        key = _admin_key()
        if key is None or principal.user is None:
            return None
        body["user_context"] = {"user_id": principal.user, "groups": sorted(principal.groups)}
        headers["Authorization"] = f"Bearer {key}"
    try:
        with httpx.Client(base_url=url, timeout=httpx.Timeout(30.0, connect=0.5)) as http:
            ready = http.get("/readyz")
            if ready.status_code != 200:
                return None
            if ready.json().get("checks", {}).get("elasticsearch", {}).get("index") != index:
                return None
            response = http.post("/v1/query", json=body, headers=headers)
    except (httpx.HTTPError, ValueError):
        return None
    if response.status_code != 200:
        # A key the API does not accept, or an API of another version: search in-process,
        # where every input error is reported with its field.
        return None
    return QueryResponse.model_validate(response.json())
