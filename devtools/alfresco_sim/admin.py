"""The ``/_sim/...`` control endpoints: mutations, faults and oracles for other processes.

Deliberately outside ``/alfresco/``: no real server has them, no authentication guards
them, and faults and request counters ignore them. Endpoints:

- ``GET /_sim/health``, ``GET /_sim/info`` (users with passwords, groups, sites, landmarks)
- ``GET /_sim/readable?user=alice`` and ``GET /_sim/indexable``: the test oracles
- ``POST /_sim/mutations`` ``{"op": "add_file", "args": {...}}``: any ``MUTATIONS`` method
  (bytes as ``data`` text or ``data_base64``); answers ``{"result": ...}``
- ``GET|PUT|DELETE /_sim/faults``, ``POST /_sim/faults/rules``: see ``faults``
- ``GET|DELETE /_sim/requests``: per-endpoint counts and the request log
- ``POST /_sim/tickets/expire``: invalidate every ticket
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict
from typing import Any, Final

from devtools.alfresco_sim.auth import TicketStore
from devtools.alfresco_sim.faults import Faults
from devtools.alfresco_sim.repository import Repository

MUTATIONS: Final = frozenset(
    {
        "add_folder",
        "add_file",
        "add_wiki_page",
        "add_blog_post",
        "add_comment",
        "update_content",
        "update_properties",
        "rename",
        "move",
        "delete",
        "restore",
        "purge",
        "set_permissions",
        "add_group",
        "add_group_member",
        "remove_group_member",
        "add_person",
        "set_person_enabled",
    }
)

AdminResult = tuple[int, Any]


class AdminApi:
    def __init__(self, repository: Repository, faults: Faults, tickets: TicketStore) -> None:
        self.repository = repository
        self.faults = faults
        self.tickets = tickets

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes
    ) -> AdminResult:
        try:
            payload = json.loads(body.decode("utf-8")) if body.strip() else {}
            return self._route(method, path.rstrip("/"), query, payload)
        except KeyError as exc:
            return 404, {"error": f"not found: {exc}"}
        except (ValueError, TypeError, binascii.Error) as exc:
            return 400, {"error": str(exc)}

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], payload: Any
    ) -> AdminResult:
        route = (method, path)
        if route == ("GET", "/_sim/health"):
            return 200, {"status": "ok"}
        if route == ("GET", "/_sim/info"):
            return 200, self.repository.describe()
        if route == ("GET", "/_sim/readable"):
            user = query.get("user", [""])[-1]
            return 200, {"user": user, "nodeIds": sorted(self.repository.readable_by(user))}
        if route == ("GET", "/_sim/indexable"):
            return 200, {"nodeIds": sorted(self.repository.indexable_ids())}
        if route == ("POST", "/_sim/mutations"):
            return 200, {"result": self.mutate(payload["op"], payload.get("args", {}))}
        if route == ("GET", "/_sim/faults"):
            return 200, self.faults.snapshot()
        if route == ("PUT", "/_sim/faults"):
            self.faults.configure(payload)
            return 200, self.faults.snapshot()
        if route == ("DELETE", "/_sim/faults"):
            self.faults.clear()
            return 200, self.faults.snapshot()
        if route == ("POST", "/_sim/faults/rules"):
            return 201, self.faults.add_rule(**payload).to_json()
        if route == ("GET", "/_sim/requests"):
            log = [asdict(r) for r in self.faults.request_log()]
            return 200, {"counts": self.faults.request_counts(), "log": log}
        if route == ("DELETE", "/_sim/requests"):
            self.faults.reset_counts()
            return 200, {"counts": {}}
        if route == ("POST", "/_sim/tickets/expire"):
            return 200, {"expired": self.tickets.expire_all()}
        return 404, {"error": f"no simulator control endpoint {method} {path}"}

    def mutate(self, op: str, args: dict[str, Any]) -> Any:
        """Apply one repository mutation by name with JSON arguments."""
        if op not in MUTATIONS:
            raise ValueError(f"unknown mutation {op!r}; known: {sorted(MUTATIONS)}")
        arguments = dict(args)
        if "data_base64" in arguments:
            arguments["data"] = base64.b64decode(arguments.pop("data_base64"), validate=True)
        return getattr(self.repository, op)(**arguments)
