"""The demo's result links: Share page addresses that the simulator answers with a readable page.

Links come from a real crawl of the simulator by the connector, so the test proves that what
Quarry indexes as a result's ``uri`` opens the item, for whoever may read it.
"""

from __future__ import annotations

import pytest
import requests

from tests.integration.alfresco_fixtures import connector, crawl, sample, simulator


def test_every_kind_of_result_link_opens_a_page_for_its_readers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with simulator(sample()) as sim:
        docs = crawl(connector(sim.base_url, monkeypatch)).docs.values()
        by_category = {d.category: d for d in docs if d.category != "comment"}
        assert {"documentLibrary", "wiki", "blog"} <= set(by_category)
        for category in ("documentLibrary", "wiki", "blog"):
            doc = by_category[category]
            assert doc.source_uri is not None and "/share/page/" in doc.source_uri
            page = requests.get(doc.source_uri, auth=("admin", "admin"), timeout=10)
            assert page.status_code == 200, (category, page.text)
            assert page.headers["content-type"].startswith("text/html")
            assert doc.title in page.text or doc.title.replace("&", "&amp;") in page.text
            assert "site" in page.text

        # Signing in is required, and the page is shown only to someone who may read it.
        salary = next(d for d in docs if d.title.startswith("Salary bands"))
        assert salary.source_uri is not None
        anonymous = requests.get(salary.source_uri, timeout=10)
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"].startswith("Basic")
        assert (
            requests.get(salary.source_uri, auth=("bob", "bob-pw"), timeout=10).status_code == 403
        )
        shown = requests.get(salary.source_uri, auth=("alice", "alice-pw"), timeout=10)
        assert shown.status_code == 200 and "Salary bands" in shown.text

        missing = requests.get(
            sim.base_url + "/share/page/site/engineering/wiki-page?title=No-such-page",
            auth=("admin", "admin"),
            timeout=10,
        )
        assert missing.status_code == 404
