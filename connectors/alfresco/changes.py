"""What changed since the last pass, as the Search API and the trashcan tell it.

Both are hints on top of the folder walk: the search index lags by seconds (hence the
overlap in ``since``) and the trashcan forgets purged nodes and, for a non-administrator
crawl account, lists only that account's deletions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from connectors.alfresco.client import AlfrescoClient, ApiError
from connectors.alfresco.mapping import ItemError, entry_of, parse_time

logger = logging.getLogger(__name__)


def search_hits(
    client: AlfrescoClient, site_ids: list[str], since: datetime
) -> Iterator[dict[str, Any]]:
    """Nodes of the sites modified since ``since`` (comments included), each once."""
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    seen: set[str] = set()
    for site in site_ids:
        query = f'SITE:"{site}" AND cm:modified:["{stamp}" TO MAX]'
        body = {"query": {"query": query, "language": "afts"}, "include": ["path", "aspectNames"]}
        try:
            for page in client.search_pages(body):
                for item in page:
                    hit = entry_of(item)
                    if hit is not None and hit["id"] not in seen:
                        seen.add(hit["id"])
                        yield hit
        except ApiError as exc:  # the walk already caught edits; only new comments wait
            logger.warning("alfresco search failed", extra={"site": site, "error": exc.message})


def trashed_since(client: AlfrescoClient, since: datetime) -> set[str]:
    """Ids archived since ``since``; the listing is newest first, so stop at the first older."""
    trashed: set[str] = set()
    try:
        for page in client.pages("/deleted-nodes"):
            for item in page:
                entry = entry_of(item)
                archived = parse_time(entry.get("archivedAt"), "archivedAt") if entry else None
                if entry is None or archived is None:
                    continue
                if archived < since:
                    return trashed
                trashed.add(entry["id"])
    except (ApiError, ItemError) as exc:
        # In doubt, nothing counts as trashed: absence alone never deletes (the pass decides).
        logger.warning("alfresco trashcan unreadable", extra={"error": str(exc)})
        return set()
    return trashed
