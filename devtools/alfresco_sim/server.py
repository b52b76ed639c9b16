"""The HTTP server: stdlib ``ThreadingHTTPServer``, keep-alive, faults applied per request.

One thread per connection, so injected latency and hangs stall only their own client.
Content is streamed in chunks with a ``Content-Length``. ``start_simulator`` runs a server
in a background thread for in-process tests.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import struct
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from devtools.alfresco_sim import routes, share_pages
from devtools.alfresco_sim.admin import AdminApi
from devtools.alfresco_sim.auth import TicketStore, authenticate
from devtools.alfresco_sim.faults import FaultRule, Faults, RequestRecord
from devtools.alfresco_sim.http_types import (
    ApiError,
    ApiRequest,
    Context,
    JsonResponse,
    Response,
    error_body,
)
from devtools.alfresco_sim.repository import Repository

logger = logging.getLogger(__name__)
JSON_TYPE = "application/json;charset=UTF-8"


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        repository: Repository,
        faults: Faults,
        tickets: TicketStore,
        *,
        chunk_size: int = 64 * 1024,
    ) -> None:
        super().__init__(address, AlfrescoRequestHandler)
        self.repository = repository
        self.faults = faults
        self.tickets = tickets
        self.admin = AdminApi(repository, faults, tickets)
        self.chunk_size = chunk_size
        self.stopping = threading.Event()


class AlfrescoRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AlfrescoSimulator/1.0"
    timeout = 120

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and
        # delayed ACKs add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def sim(self) -> SimulatorServer:
        assert isinstance(self.server, SimulatorServer)
        return self.server

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    # -- dispatch ------------------------------------------------------------------------

    def _dispatch(self) -> None:
        split = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        body = self._read_body()
        if split.path.startswith("/_sim/"):
            status, payload = self.sim.admin.handle(self.command, split.path, query, body)
            self._send(JsonResponse(status, payload))
            return
        if self.command == "GET" and split.path.startswith(share_pages.PREFIX):
            request = ApiRequest(
                self.command, split.path, query, {k.lower(): v for k, v in self.headers.items()}
            )
            self._send(share_pages.share_page(self.sim.repository, self.sim.tickets, request))
            return
        found = routes.match(self.command, split.path)
        endpoint = found.route.endpoint if found.route else f"{self.command} (unmatched)"
        decision = self.sim.faults.decide(endpoint)
        if decision.latency_ms:
            self.sim.stopping.wait(decision.latency_ms / 1000)
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = ApiRequest(self.command, split.path, query, headers, body, found.params)
        rule = decision.rule
        if rule is not None and rule.kind not in ("error", "false_end"):
            self._record(request, endpoint, split.query, 0, rule.kind)
            self._break_connection(rule)
            return
        if rule is not None and rule.kind == "false_end":
            response = _false_end(self._respond(request, found, None), rule.hide_total)
        else:
            response = self._respond(request, found, rule)
        malformed = self.sim.faults.malformed_node_ids() & set(found.params.values())
        fault = rule.kind if rule is not None else ("malformed" if malformed else None)
        # Logged before sending, so a client that got its answer always finds it logged.
        self._record(request, endpoint, split.query, response.status, fault)
        self._send(response, malformed=bool(malformed))

    def _respond(
        self, request: ApiRequest, found: routes.Match, rule: FaultRule | None
    ) -> Response:
        try:
            if rule is not None:
                headers = (
                    {} if rule.retry_after_s is None else {"Retry-After": str(rule.retry_after_s)}
                )
                raise ApiError(rule.status, "Simulated failure", headers=headers)
            if found.route is None:
                if not found.method_allowed:
                    raise ApiError(405, f"The operation {request.method} is not supported")
                raise ApiError(404, f"Unable to locate resource resource for {request.path}")
            if found.route.authenticated:
                authenticate(request, self.sim.repository, self.sim.tickets)
            context = Context(self.sim.repository, self.sim.tickets, self.sim.faults, request)
            return found.route.handler(context)
        except ApiError as exc:
            return JsonResponse(exc.status, error_body(exc.status, exc.brief), exc.headers)
        except Exception as exc:
            logger.exception("simulator handler failed for %s %s", request.method, request.path)
            return JsonResponse(500, error_body(500, f"Simulator error: {exc}"))

    def _record(
        self, request: ApiRequest, endpoint: str, query: str, status: int, fault: str | None
    ) -> None:
        self.sim.faults.record(
            RequestRecord(
                request.method, endpoint, request.path, query, request.user, status, fault
            )
        )

    # -- wire ----------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: Response, *, malformed: bool = False) -> None:
        if isinstance(response, JsonResponse):
            data = json.dumps(response.body, ensure_ascii=False).encode("utf-8")
            if malformed:
                data = data[: max(1, len(data) // 2)]
            content_type = JSON_TYPE
        else:
            data, content_type = response.data, response.content_type
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.status not in (204, 304):
                if content_type:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            chunk = self.sim.chunk_size
            for start in range(0, len(data), chunk):
                self.wfile.write(data[start : start + chunk])
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _break_connection(self, rule: FaultRule) -> None:
        """A reset (RST, no response) or a hang longer than any sane client timeout."""
        self.close_connection = True
        if rule.kind == "timeout":
            self.sim.stopping.wait(rule.hang_s)
            return
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()


@dataclass
class SimulatorHandle:
    """A running in-process simulator; use as a context manager or call ``stop()``."""

    server: SimulatorServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def core_url(self) -> str:
        return self.base_url + routes.API_BASES["core"]

    @property
    def search_url(self) -> str:
        return self.base_url + routes.API_BASES["search"] + "/search"

    @property
    def repository(self) -> Repository:
        return self.server.repository

    @property
    def faults(self) -> Faults:
        return self.server.faults

    @property
    def tickets(self) -> TicketStore:
        return self.server.tickets

    def stop(self) -> None:
        self.server.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> SimulatorHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_simulator(
    repository: Repository | None = None,
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    faults: Faults | None = None,
    ticket_ttl_s: float = 3600.0,
    chunk_size: int = 64 * 1024,
) -> SimulatorHandle:
    """Serve ``repository`` (default: the seed-7 sample) on ``port`` (0: any free port)."""
    if repository is None:
        from devtools.alfresco_sim.generator import generate_repository

        repository = generate_repository()
    server = SimulatorServer(
        (host, port),
        repository,
        faults or Faults(),
        TicketStore(ticket_ttl_s),
        chunk_size=chunk_size,
    )
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="alfresco-simulator",
        daemon=True,
    )
    thread.start()
    return SimulatorHandle(server, thread)


def _false_end(response: Response, hide_total: bool) -> Response:
    """A list page that claims to be the last one (the ``false_end`` fault)."""
    body = getattr(response, "body", None)
    listing = body.get("list") if isinstance(body, dict) else None
    pagination = listing.get("pagination") if isinstance(listing, dict) else None
    if isinstance(pagination, dict):
        pagination["hasMoreItems"] = False
        if hide_total:
            pagination.pop("totalItems", None)
    return response
