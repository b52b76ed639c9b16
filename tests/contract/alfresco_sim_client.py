"""A test client for the Alfresco simulator that checks every response against the definitions.

Each call names the API and the path template as the definitions spell them, asserts the
expected status, and validates JSON bodies (success and error alike) with
``alfresco_definitions.validate``; a test therefore cannot receive an off-contract body.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import requests

from devtools.alfresco_sim.routes import API_BASES
from devtools.alfresco_sim.sample_population import PEOPLE
from devtools.alfresco_sim.server import SimulatorHandle
from tests.contract.alfresco_definitions import validate

PASSWORDS = {person.id: person.password for person in PEOPLE}


class SimClient:
    def __init__(self, handle: SimulatorHandle, user: str | None = "admin") -> None:
        self.handle = handle
        self.session = requests.Session()
        if user is not None:
            self.session.auth = (user, PASSWORDS[user])

    def url(self, api: str, template: str, **path: str) -> str:
        quoted = {k: urllib.parse.quote(v, safe="") for k, v in path.items()}
        return self.handle.base_url + API_BASES[api] + template.format(**quoted)

    def call(
        self,
        api: str,
        method: str,
        template: str,
        *,
        expect: int = 200,
        path: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        response = self.session.request(method, self.url(api, template, **(path or {})), **kwargs)
        assert response.status_code == expect, (response.status_code, response.text[:500])
        if response.headers.get("Content-Type", "").startswith("application/json"):
            validate(api, template, method, response.status_code, response.json())
        return response

    def get(self, template: str, *, expect: int = 200, **kwargs: Any) -> Any:
        """GET on the core API; returns the parsed JSON body."""
        return self.call("core", "GET", template, expect=expect, **kwargs).json()

    def search(self, body: dict[str, Any], *, expect: int = 200) -> Any:
        return self.call("search", "POST", "/search", expect=expect, json=body).json()

    def walk(self, template: str, page_size: int, **kwargs: Any) -> list[Any]:
        """Every entry of a list endpoint, following skipCount/hasMoreItems."""
        params = dict(kwargs.pop("params", {}))
        entries: list[Any] = []
        while True:
            params.update(skipCount=len(entries), maxItems=page_size)
            body = self.get(template, params=params, **kwargs)["list"]
            entries += [e["entry"] for e in body["entries"]]
            assert body["pagination"]["count"] == len(body["entries"])
            if not body["pagination"]["hasMoreItems"]:
                return entries
