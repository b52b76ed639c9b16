"""HTTP access to Alfresco's public REST API: retries, paging, auth and bounded downloads.

Errors come in two kinds. ``ConnectorError`` is systemic (credentials refused, host
unreachable, TLS broken) and ends the crawl. ``ApiError`` concerns one call (404, 403, a 5xx
or a malformed body that outlived its retries); the caller decides whether that call was an
item (a ``Failure``) or a listing the crawl cannot do without.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import random
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from urllib3.exceptions import NewConnectionError

from connectors.alfresco.auth import (
    Authenticator,
    BasicAuthenticator,
    Credentials,
    TicketAuthenticator,
)
from connectors.alfresco.config import AlfrescoConfig, AuthMode
from connectors.errors import AUTH_FAILED, TLS_ERROR, UNREACHABLE, ConnectorError

logger = logging.getLogger(__name__)

CORE = "/alfresco/api/-default-/public/alfresco/versions/1"
SEARCH = "/alfresco/api/-default-/public/search/versions/1/search"
TICKETS = "/alfresco/api/-default-/public/authentication/versions/1/tickets"
_MAX_RETRY_AFTER = 600.0
_CHUNK = 64 * 1024
T = TypeVar("T")


class ApiError(Exception):
    """One API call failed for good; ``status`` is 0 for a malformed body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def server_failing(self) -> bool:
        """Throttled or 5xx even after retries: the server, not this one call, is in trouble."""
        return self.status == 429 or self.status >= 500


class _Transient(Exception):
    """A failure worth retrying; ``retry_after`` is the server's own wish, in seconds."""

    def __init__(
        self,
        reason: str,
        status: int = 0,
        retry_after: float | None = None,
        connect: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.connect = connect
        """No connection could be opened at all: the host, not this call, is the problem."""


@dataclass(frozen=True)
class Content:
    data: bytes
    content_type: str | None
    size: int | None
    """True size when known (read fully, or announced by Content-Length); None otherwise."""


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds or as an HTTP date (RFC 9110)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _brief(response: requests.Response) -> str:
    try:
        summary = response.json()["error"]["briefSummary"]
    except Exception:  # the error body is informative only; any shape will do
        return f"HTTP {response.status_code}"
    return f"HTTP {response.status_code}: {str(summary)[:300]}"


class AlfrescoClient:
    """Thread-safe for concurrent GETs: content downloads run in a worker pool."""

    def __init__(
        self,
        config: AlfrescoConfig,
        credentials: Credentials,
        authenticator: Authenticator | None = None,
    ) -> None:
        if config.ssl_ca_cert and not Path(config.ssl_ca_cert).is_file():
            raise ConnectorError(
                TLS_ERROR, f"ssl_ca_cert {config.ssl_ca_cert} is not a file this worker can read"
            )
        self.config = config
        self.base = config.site_url
        self.session = requests.Session()
        # passed on every request: a session-level ``verify`` loses to REQUESTS_CA_BUNDLE
        self._verify: str | bool = config.ssl_ca_cert or True
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=config.concurrency + 2)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["Accept"] = "application/json"
        if authenticator is None:
            if config.auth == AuthMode.TICKET:
                authenticator = TicketAuthenticator(credentials, self._login)
            else:
                authenticator = BasicAuthenticator(credentials)
        self.auth = authenticator
        self._server_date: datetime | None = None

    def close(self) -> None:
        self.session.close()

    def server_now(self) -> datetime:
        """The repository's clock (from the last Date header), so skew cannot hide changes."""
        return self._server_date or datetime.now(UTC)

    # -- requests -------------------------------------------------------------------------

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call("GET", CORE + path, params=params)

    def post_search(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", SEARCH, json_body=body)

    def pages(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        ahead: Executor | None = None,
        depth: int = 0,
    ) -> Iterator[list[Any]]:
        """Entries of a list endpoint, page by page.

        With a pool ``ahead``, up to ``depth`` pages past the one just read are requested
        there (see ``ReadAhead``): a big folder's pages arrive in parallel, while the paging
        below still reads them, and proves the listing complete, one after the other.
        """

        def fetch(paging: dict[str, int]) -> dict[str, Any]:
            return self.get_json(path, {**(params or {}), **paging})

        if ahead is not None and depth > 0:
            return self._paged(ReadAhead(fetch, ahead, depth))
        return self._paged(fetch)

    def search_pages(self, body: dict[str, Any]) -> Iterator[list[Any]]:
        """Entries of a search, page by page (the Search API pages in the JSON body)."""
        return self._paged(lambda paging: self.post_search({**body, "paging": paging}))

    def _paged(self, fetch: Callable[[dict[str, int]], dict[str, Any]]) -> Iterator[list[Any]]:
        """skipCount/maxItems paging that ends only when the source's own counts agree.

        ``hasMoreItems: false`` alone is not proof (a source once said it too early, and the
        crawl deleted what it had not seen): the listing is complete when the items read
        reach ``totalItems``, or, without a total, when a read past the end finds nothing.
        Items found past a premature end are read on; a listing that stays short of its
        total raises ``ApiError`` (status 0), which marks the pass incomplete: nothing is
        deleted for being absent from it.
        """
        size = self.config.page_size
        skip = 0
        entries, more, total = _list_page(fetch({"skipCount": skip, "maxItems": size}))
        while True:
            yield entries
            skip += len(entries)
            if not more:
                if total is not None and skip >= total:
                    return
                entries, more, later_total = _list_page(
                    fetch({"skipCount": skip, "maxItems": size})
                )
                if not entries:
                    if total is not None and skip < total:
                        raise ApiError(
                            0,
                            f"listing incomplete: read {skip} of the {total} items it announced",
                        )
                    return
                logger.warning(
                    "alfresco listing ended early: more items past its last page",
                    extra={"skip": skip, "total": total, "found": len(entries)},
                )
                total = later_total
                continue
            entries, more, total = _list_page(fetch({"skipCount": skip, "maxItems": size}))

    def content(self, node_id: str, max_bytes: int) -> Content:
        """Download at most ``max_bytes`` of a node's content, streaming the rest away unread."""
        path = f"{CORE}/nodes/{quote(node_id, safe='')}/content"
        return self._with_retries(lambda: self._download(path, max_bytes), f"content of {node_id}")

    # -- machinery ------------------------------------------------------------------------

    def _login(self, credentials: Credentials) -> str:
        body = {"userId": credentials.username, "password": credentials.password}
        try:
            data = self._with_retries(
                lambda: self._once("POST", TICKETS, None, body, auth=False), "login"
            )
            ticket = data["entry"]["id"]
        except ApiError as exc:
            if exc.status in (400, 401, 403):
                raise ConnectorError(AUTH_FAILED, _AUTH_HINT) from None
            raise
        except (KeyError, TypeError):
            raise ApiError(0, "malformed ticket response") from None
        if not isinstance(ticket, str) or not ticket:
            raise ApiError(0, "malformed ticket response")
        return ticket

    def _call(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self._with_retries(
            lambda: self._once(method, path, params, json_body), f"{method} {path}"
        )

    def _with_retries(self, action: Callable[[], T], what: str) -> T:
        retrying = Retrying(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(self.config.max_retries + 1),
            wait=self._wait,
            before_sleep=lambda state: _log_retry(state, what),
            reraise=True,
        )
        try:
            return retrying(action)
        except _Transient as exc:
            if exc.connect:
                raise ConnectorError(
                    UNREACHABLE, f"Alfresco at {self.base} did not answer ({exc.reason})"
                ) from None
            raise ApiError(exc.status, f"{what}: {exc.reason}") from None

    def _wait(self, state: RetryCallState) -> float:
        """Server's Retry-After when given, else exponential backoff with full jitter."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return min(exc.retry_after, _MAX_RETRY_AFTER)
        ceiling = self.config.backoff_seconds * 2 ** (state.attempt_number - 1)
        return random.uniform(0, min(ceiling, self.config.max_backoff_seconds))

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        json_body: dict[str, Any] | None,
        auth: bool,
        stream: bool = False,
    ) -> requests.Response:
        """One HTTP exchange, renewing the credentials once if they are refused."""
        for renewed in (False, True):
            headers = {"Authorization": self.auth.header()} if auth else {}
            response = self._exchange(method, path, params, json_body, headers, stream)
            if response.status_code != 401 or not auth:
                return response
            response.close()
            if renewed or not self.auth.renew(headers["Authorization"]):
                break
        raise ConnectorError(AUTH_FAILED, _AUTH_HINT)

    def _exchange(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        json_body: dict[str, Any] | None,
        headers: dict[str, str],
        stream: bool,
    ) -> requests.Response:
        try:
            response = self.session.request(
                method,
                self.base + path,
                params=params,
                json=json_body,
                headers=headers,
                timeout=self.config.timeout_seconds,
                stream=stream,
                verify=self._verify,
            )
        except requests.exceptions.SSLError as exc:
            raise ConnectorError(TLS_ERROR, _tls_hint(self.config, exc)) from None
        except OSError as exc:
            raise _Transient(
                f"connection failed: {type(exc).__name__}", connect=_is_connect_failure(exc)
            ) from None
        date = response.headers.get("Date")
        if date:
            with contextlib.suppress(TypeError, ValueError):
                self._server_date = email.utils.parsedate_to_datetime(date).astimezone(UTC)
        if response.status_code == 429 or response.status_code >= 500:
            response.close()
            raise _Transient(
                f"HTTP {response.status_code}",
                response.status_code,
                _retry_after(response.headers.get("Retry-After")),
            )
        return response

    def _once(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        json_body: dict[str, Any] | None,
        auth: bool = True,
    ) -> dict[str, Any]:
        response = self._send(method, path, params, json_body, auth)
        if response.status_code >= 400:
            raise ApiError(response.status_code, _brief(response))
        try:
            data = response.json()
        except requests.exceptions.RequestException as exc:  # reset while reading the body
            if not isinstance(exc, requests.exceptions.JSONDecodeError):
                raise _Transient(f"connection failed while reading: {type(exc).__name__}") from None
            raise _Transient("malformed JSON in response") from None
        if not isinstance(data, dict):
            raise _Transient("malformed JSON in response: not an object")
        return data

    def _download(self, path: str, max_bytes: int) -> Content:
        with self._send("GET", path, None, None, auth=True, stream=True) as response:
            if response.status_code >= 400:
                raise ApiError(response.status_code, _brief(response))
            announced = response.headers.get("Content-Length")
            chunks: list[bytes] = []
            read = 0
            truncated = False
            try:
                for chunk in response.iter_content(_CHUNK):
                    if read + len(chunk) > max_bytes:
                        chunks.append(chunk[: max_bytes - read])
                        truncated = True
                        break
                    chunks.append(chunk)
                    read += len(chunk)
            except requests.exceptions.RequestException as exc:
                raise _Transient(f"connection failed while reading: {type(exc).__name__}") from None
            size = int(announced) if announced and announced.isdigit() else None
            if not truncated:
                size = read
            mime = (response.headers.get("Content-Type") or "").split(";")[0].strip() or None
            return Content(data=b"".join(chunks), content_type=mime, size=size)


_AUTH_HINT = (
    "Alfresco refused the crawl account's credentials: check the username and password in "
    "the secret, and that the account is enabled"
)


def _tls_hint(config: AlfrescoConfig, exc: Exception) -> str:
    if config.ssl_ca_cert:
        return (
            f"TLS verification of {config.site_url} against ssl_ca_cert {config.ssl_ca_cert} "
            f"failed ({type(exc).__name__}): check that the file is the PEM of the CA that "
            "signed the server certificate and that the host name matches it"
        )
    return (
        f"TLS verification of {config.site_url} failed ({type(exc).__name__}): if the server "
        "uses a private CA, set ssl_ca_cert to its PEM file"
    )


class ReadAhead:
    """A page reader that requests the next pages before they are asked for.

    Once a page says there is more and how many items there are in all, the next ``depth``
    pages are requested in the pool on the guess that pages are full (the next skipCount is
    this one plus this page's length), never past the announced total. A read whose page was
    guessed takes the early answer; any other is sent then, and the guesses are dropped. So
    the paging logic sees answers to exactly the requests it makes, in its order: only their
    timing changes. One reader at a time; a read in a pool thread never waits for a request
    still queued behind it (it takes the request back and sends it itself).
    """

    def __init__(
        self, fetch: Callable[[dict[str, int]], dict[str, Any]], pool: Executor, depth: int
    ) -> None:
        self._fetch = fetch
        self._pool = pool
        self._depth = depth
        self._early: dict[int, Future[dict[str, Any]]] = {}

    def __call__(self, paging: dict[str, int]) -> dict[str, Any]:
        skip, size = paging["skipCount"], paging["maxItems"]
        early = self._early.pop(skip, None)
        if early is None:
            self.drop()
        sent = early if early is not None and not early.cancel() else None  # else: still queued
        data = sent.result() if sent is not None else self._fetch(paging)
        self._guess(skip, size, data)
        return data

    def _guess(self, skip: int, size: int, data: dict[str, Any]) -> None:
        try:
            entries, more, total = _list_page(data)
        except ApiError:
            return
        if not more or total is None or not entries:
            return
        for step in range(1, self._depth + 1):
            later = skip + len(entries) * step
            if later >= total:
                return
            if later not in self._early:
                paging = {"skipCount": later, "maxItems": size}
                self._early[later] = self._pool.submit(self._fetch, paging)

    def drop(self) -> None:
        """Forget the guesses (one already being read finishes unread)."""
        for future in self._early.values():
            future.cancel()
        self._early.clear()


def _list_page(data: dict[str, Any]) -> tuple[list[Any], bool, int | None]:
    """Entries, ``hasMoreItems`` and ``totalItems`` (None if absent) of a list response;
    ``ApiError`` if it is malformed."""
    listing = data.get("list")
    if not isinstance(listing, dict) or not isinstance(listing.get("entries"), list):
        raise ApiError(0, "malformed list response")
    pagination = listing.get("pagination")
    more = isinstance(pagination, dict) and pagination.get("hasMoreItems") is True
    total = pagination.get("totalItems") if isinstance(pagination, dict) else None
    entries: list[Any] = listing["entries"]
    if more and not entries:
        raise ApiError(0, "list response claims more items but returned none")
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        total = None
    return entries, more, total


def _is_connect_failure(exc: OSError) -> bool:
    """Refused, unresolvable or timed-out connections, as opposed to a failure mid-exchange."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def _log_retry(state: RetryCallState, what: str) -> None:
    exc = state.outcome.exception() if state.outcome else None
    logger.warning(
        "retrying alfresco call",
        extra={
            "call": what,
            "attempt": state.attempt_number,
            "reason": getattr(exc, "reason", type(exc).__name__),
            "wait_s": round(state.upcoming_sleep, 3),
        },
    )
