"""``AlfrescoConnector``: the entry point the registry loads for ``type_name = "alfresco"``."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar
from urllib.parse import quote

from pydantic import BaseModel

from connectors.alfresco.auth import load_credentials
from connectors.alfresco.client import AlfrescoClient, ApiError
from connectors.alfresco.config import AlfrescoConfig
from connectors.alfresco.crawl import AlfrescoCrawl
from connectors.alfresco.mapping import entry_of
from connectors.alfresco.state import load_state
from connectors.base import CheckResult, CrawlLimits
from connectors.errors import SITE_NOT_FOUND, SOURCE_ERROR, ConnectorError
from connectors.models import Checkpoint, CrawlItem, SyncMode

logger = logging.getLogger(__name__)


class AlfrescoConnector:
    """Crawls Alfresco sites (document library, wiki, blog, comments, Shared files) with ACLs."""

    type_name: ClassVar[str] = "alfresco"
    config_model: ClassVar[type[BaseModel]] = AlfrescoConfig

    def __init__(self, config: AlfrescoConfig, data_source_id: str) -> None:
        self.config = config
        self.data_source_id = data_source_id

    def _client(self, config: AlfrescoConfig) -> AlfrescoClient:
        return AlfrescoClient(config, load_credentials(config.secret_ref))

    def check(self) -> CheckResult:
        """Connectivity, TLS, credentials and every site, failing fast (one retry at most)."""
        quick = self.config.model_copy(update={"max_retries": min(self.config.max_retries, 1)})
        try:
            client = self._client(quick)
        except ConnectorError as exc:
            return CheckResult(ok=False, message=exc.message, details={"code": exc.code})
        try:
            person = entry_of(client.get_json("/people/-me-"))
            me = person["id"] if person else "?"
            missing = []
            for site in self.config.site_ids:
                try:
                    client.get_json(f"/sites/{quote(site, safe='')}")
                except ApiError as exc:
                    if exc.status not in (403, 404):
                        raise
                    missing.append(site)
            visible = _visible_sites(client) if missing else []
        except ConnectorError as exc:
            return CheckResult(ok=False, message=exc.message, details={"code": exc.code})
        except ApiError as exc:
            hint = (
                ": site_url must be the server's root (https://host:port), without /alfresco"
                if exc.status == 404
                else ""
            )
            return CheckResult(
                ok=False,
                message=f"no usable Alfresco REST API at {self.config.site_url} ({exc.message}){hint}",
                details={"code": SOURCE_ERROR},
            )
        finally:
            client.close()
        if missing:
            close = {
                site: match[0]
                for site in missing
                if (match := difflib.get_close_matches(site, visible, n=1, cutoff=0.6))
            }
            seen = (
                f"; {me} can see: {', '.join(visible[:50])}"
                if visible
                else f"; {me} can see no site"
            )
            guesses = "".join(f"; did you mean {v!r} for {k!r}?" for k, v in close.items())
            return CheckResult(
                ok=False,
                message=(
                    f"connected as {me}, but these sites do not exist or {me} cannot see them: "
                    f"{', '.join(missing)} (add the account to private sites, or fix the ids)"
                    f"{guesses}{seen}"
                ),
                details={"code": SITE_NOT_FOUND, "sites": missing, "visible_sites": visible},
            )
        return CheckResult(
            ok=True,
            message=f"connected to {self.config.site_url} as {me}; all sites found",
            details={"user": me, "sites": list(self.config.site_ids)},
        )

    def crawl(
        self, mode: SyncMode, checkpoint: Checkpoint | None, limits: CrawlLimits
    ) -> Iterator[CrawlItem]:
        state, full = load_state(mode, checkpoint, self.config)
        client = self._client(self.config)
        pool = ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="alfresco-fetch")
        try:
            crawl = AlfrescoCrawl(self.config, client, self.data_source_id, limits, state, pool)
            yield from crawl.run(full)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            client.close()


def _visible_sites(client: AlfrescoClient) -> list[str]:
    """Ids of the sites the crawl account can see (first 1,000): what a typo is compared to."""
    try:
        listing = client.get_json("/sites", {"maxItems": 1000, "fields": "id"})
    except (ApiError, ConnectorError):
        return []
    entries = listing.get("list", {}).get("entries", [])
    return sorted(str(e["entry"]["id"]) for e in entries if e.get("entry", {}).get("id"))
