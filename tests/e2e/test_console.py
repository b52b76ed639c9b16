"""The search console in headless Chromium against a real uvicorn server, index and ACLs.

Needs Debian's ``chromium`` and ``chromium-driver`` (``apt-get install -y chromium
chromium-driver``); without them the tests skip and say so. Screenshots go to
``var/screenshots/``; ``QUARRY_SCREENSHOT_DIR=docs`` refreshes the README's pictures
(``docs/console-*.png``), so that a test run never rewrites files under version control.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from elasticsearch import Elasticsearch

from api.app import create_app
from api.settings import ApiSettings
from search.runtime import Runtime
from tests.integration.test_api_support import ADMIN_KEY, mint
from tests.stack import ROOT, wait_until

pytest_plugins = ["tests.integration.test_api_support"]  # the API fixtures

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOTS = ROOT / os.environ.get("QUARRY_SCREENSHOT_DIR", "var/screenshots")
BROAD = "vacation salary kubernetes database travel roadmap orphaned onboarding"
"""A word of every corpus document: the results are exactly what the searcher may read."""

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="headless Chromium is not installed: apt-get install -y chromium chromium-driver",
)

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')"
)
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(api_settings: ApiSettings, runtime: Runtime, api_corpus: list[str]) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(api_settings, runtime=runtime),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager fetch a driver
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER)
    )
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _wait(driver: WebDriver, seconds: float = 30) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, seconds)


def _titles(driver: WebDriver) -> list[str]:
    # The page may re-render the list between finding the elements and reading them.
    for _ in range(20):
        try:
            return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#results .result h3")]
        except StaleElementReferenceException:
            time.sleep(0.1)
    raise AssertionError("the result list kept changing")


def _screenshot(driver: WebDriver, name: str) -> None:
    """Save ``console-<name>.png``, one of the README's pictures of the console."""
    path = SCREENSHOTS / f"console-{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(path))
    assert path.stat().st_size > 5_000


def _text(driver: WebDriver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def _open_panel(driver: WebDriver, panel_id: str) -> None:
    """Open a <details> panel whatever its state (a click would close an open one)."""
    panel = driver.find_element(By.ID, panel_id)
    if panel.get_attribute("open") is None:
        panel.find_element(By.TAG_NAME, "summary").click()
    _wait(driver, 10).until(lambda d: panel.get_attribute("open") is not None)


def _open_admin_panel(driver: WebDriver) -> None:
    _open_panel(driver, "admin-panel")


def _search_settled(driver: WebDriver) -> None:
    _wait(driver).until(
        lambda d: d.find_element(By.ID, "results").get_attribute("aria-busy") is None
    )


def test_query_shows_highlighted_results_facets_and_test_as_user(
    browser: WebDriver, base_url: str
) -> None:
    browser.get(base_url + "/")
    assert browser.title == "Quarry search console"
    # The start page shows no empty facet heading, no pager and no summary.
    assert not browser.find_element(By.ID, "facet-panel").is_displayed()
    assert not browser.find_element(By.ID, "pager").is_displayed()
    _screenshot(browser, "start")
    box = browser.find_element(By.ID, "q")
    box.send_keys("vacation days", Keys.ENTER)

    _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#results .result mark")))
    _search_settled(browser)
    assert _titles(browser)[0] == "Vacation and paid time off policy"
    marks = [
        m.text.lower()
        for m in browser.find_elements(By.CSS_SELECTOR, "#results .result:first-child mark")
    ]
    assert "vacation" in marks
    first_excerpt = browser.find_element(
        By.CSS_SELECTOR, "#results .result:first-child .excerpt"
    ).text
    assert "twenty days of paid vacation" in first_excerpt  # marks split the text, never lose it
    # Anonymous: only the three documents open to everyone.
    assert browser.find_element(By.ID, "summary").text == "3 results"
    assert browser.find_element(By.ID, "identity").text == "anonymous"
    assert "Deploying services on Kubernetes" not in _titles(browser)

    # Test as user (admin key): erin reaches engineering through nested groups.
    browser.find_element(By.CSS_SELECTOR, "#admin-panel summary").click()
    browser.find_element(By.ID, "admin-key").send_keys(ADMIN_KEY)
    browser.find_element(By.ID, "test-user").send_keys("erin")
    browser.find_element(By.ID, "test-apply").click()
    groups = browser.find_element(By.ID, "test-groups-out")
    _wait(browser).until(lambda d: groups.is_displayed())
    assert "GROUP_engineering" in groups.text
    _wait(browser).until(lambda d: d.find_element(By.ID, "identity").text == "testing as erin")
    _search_settled(browser)
    # Every word matches some document, so the results are exactly what erin may read.
    box.clear()
    box.send_keys("vacation days kubernetes outage", Keys.ENTER)
    _wait(browser).until(lambda d: "Deploying services on Kubernetes" in _titles(d))
    _search_settled(browser)
    assert browser.find_element(By.ID, "summary").text == "5 results"
    assert "Postmortem: database outage in March" in _titles(browser)
    _screenshot(browser, "test-as-user")

    # A facet value re-queries with an attribute filter.
    wiki = browser.find_element(
        By.CSS_SELECTOR, '.facet-value[data-attribute="_category"][data-value="wiki"]'
    )
    assert wiki.find_element(By.CSS_SELECTOR, ".count").text == "1"
    wiki.click()
    _wait(browser).until(lambda d: d.find_element(By.ID, "summary").text == "1 result")
    assert _titles(browser) == ["Deploying services on Kubernetes"]
    assert "Content type: Wiki page" in browser.find_element(By.ID, "filters").text
    browser.find_element(By.CSS_SELECTOR, "#filters .chip button").click()
    _wait(browser).until(lambda d: len(_titles(d)) > 1)
    assert browser.find_element(By.ID, "filters").text == ""


def test_paging_moves_through_the_results(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url + "/")
    browser.find_element(By.CSS_SELECTOR, "#admin-panel summary").click()
    browser.find_element(By.ID, "admin-key").send_keys(ADMIN_KEY)
    browser.find_element(By.ID, "test-user").send_keys("zoe")
    browser.find_element(By.ID, "test-groups").send_keys(
        "GROUP_engineering, GROUP_executives, GROUP_product"
    )
    browser.find_element(By.ID, "test-apply").click()
    browser.find_element(By.CSS_SELECTOR, "#options-panel summary").click()
    Select(browser.find_element(By.ID, "page-size")).select_by_visible_text("5")
    browser.find_element(By.ID, "q").send_keys(BROAD, Keys.ENTER)
    _wait(browser).until(lambda d: d.find_element(By.ID, "page-info").text == "Page 1 of 2")
    _search_settled(browser)
    first_page = _titles(browser)
    assert len(first_page) == 5
    assert browser.find_element(By.ID, "summary").text == "Showing 1\u20135 of 7"
    browser.find_element(By.ID, "next").click()
    _wait(browser).until(lambda d: d.find_element(By.ID, "page-info").text == "Page 2 of 2")
    _search_settled(browser)
    second_page = _titles(browser)
    assert len(second_page) == 2
    assert browser.find_element(By.ID, "summary").text == "Showing 6\u20137 of 7"
    assert not set(first_page) & set(second_page)
    assert browser.find_element(By.ID, "next").get_attribute("disabled") is not None
    browser.find_element(By.ID, "prev").click()
    _wait(browser).until(lambda d: d.find_element(By.ID, "page-info").text == "Page 1 of 2")
    _search_settled(browser)
    assert _titles(browser) == first_page


def test_relevance_buttons_store_feedback(
    browser: WebDriver, base_url: str, es: Elasticsearch, runtime: Runtime
) -> None:
    browser.get(base_url + "/")
    browser.find_element(By.ID, "q").send_keys("travel receipts", Keys.ENTER)
    _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#results .result")))
    _search_settled(browser)
    first = browser.find_element(By.CSS_SELECTOR, "#results .result:first-child")
    result_id = first.get_attribute("data-id")
    first.find_element(By.XPATH, ".//button[text()='Relevant']").click()
    index = runtime.settings.system_index("feedback")

    def stored() -> list[dict[str, object]]:
        if not es.indices.exists(index=index):
            return []
        es.indices.refresh(index=index)
        hits = es.search(index=index, query={"term": {"result_id": result_id}}).body["hits"]["hits"]
        # Anonymous searcher (user ""), this query: other tests judge the same result as alice.
        return [
            h["_source"]
            for h in hits
            if h["_source"]["query_text"] == "travel receipts"
            and h["_source"]["user"] == ""
            and h["_source"]["kind"] == "relevance"
        ]

    found = wait_until(stored, timeout=30, message="the console's feedback to be stored")
    assert [f["relevant"] for f in found] == [True]
    ack = first.find_element(By.CSS_SELECTOR, ".vote-ack")
    _wait(browser).until(lambda d: ack.text == "Thanks: marked relevant")


def test_an_invalid_admin_key_is_reported(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url + "/")
    browser.find_element(By.CSS_SELECTOR, "#admin-panel summary").click()
    browser.find_element(By.ID, "admin-key").send_keys("wrong-key")
    browser.find_element(By.ID, "test-user").send_keys("erin")
    browser.find_element(By.ID, "q").send_keys("vacation")
    browser.find_element(By.ID, "test-apply").click()
    error = browser.find_element(By.ID, "error")
    _wait(browser).until(lambda d: error.is_displayed())
    assert "401" in error.text and "admin key is not valid" in error.text
    _screenshot(browser, "error")


def test_console_is_served_with_a_strict_policy(base_url: str) -> None:
    import httpx

    page = httpx.get(base_url + "/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert (
        httpx.get(base_url + "/console/app.js")
        .headers["content-type"]
        .startswith(("text/javascript", "application/javascript"))
    )
    assert (
        Path(ROOT / "api" / "console" / "static" / "index.html").read_text().count("<script") == 1
    )


def test_typing_offers_readable_suggestions(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url + "/")
    browser.find_element(By.ID, "q").send_keys("exec")

    def options(d: WebDriver) -> list[str]:
        found = d.find_elements(By.CSS_SELECTOR, "#suggestions option")
        return [str(o.get_attribute("value")) for o in found]

    browser.find_element(By.ID, "q").send_keys(Keys.BACKSPACE * 4, "vaca")
    _wait(browser).until(lambda d: "Vacation and paid time off policy" in options(d))
    assert "Executive salary bands 2025" not in options(browser)


def _search_as(driver: WebDriver, user: str, key: str = ADMIN_KEY, groups: str = "") -> None:
    _open_admin_panel(driver)
    driver.find_element(By.ID, "admin-key").send_keys(key)
    driver.find_element(By.ID, "test-user").send_keys(user)
    if groups:
        driver.find_element(By.ID, "test-groups").send_keys(groups)
    driver.find_element(By.ID, "test-apply").click()


def test_search_as_user_searches_the_text_in_the_box(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url + "/")
    box = browser.find_element(By.ID, "q")
    box.send_keys("vacation days", Keys.ENTER)
    _wait(browser).until(lambda d: _text(d, "summary") == "3 results")
    # The admin types a new query and, without pressing Enter, tests it as erin.
    box.clear()
    box.send_keys("kubernetes")
    _search_as(browser, "erin")
    _wait(browser).until(lambda d: _text(d, "identity") == "testing as erin")
    _wait(browser).until(lambda d: "Deploying services on Kubernetes" in _titles(d))
    _search_settled(browser)
    assert "Vacation and paid time off policy" not in _titles(browser)
    assert "q=kubernetes" in browser.current_url


def test_search_as_user_without_the_admin_key_asks_for_it(
    browser: WebDriver, base_url: str
) -> None:
    browser.get(base_url + "/")
    browser.find_element(By.ID, "q").send_keys("vacation days", Keys.ENTER)
    _wait(browser).until(lambda d: _text(d, "summary") == "3 results")
    _open_admin_panel(browser)
    browser.find_element(By.ID, "test-user").send_keys("erin")
    browser.find_element(By.ID, "test-apply").click()
    error = browser.find_element(By.ID, "error")
    _wait(browser).until(lambda d: error.is_displayed())
    assert "Enter the admin key" in error.text
    # Nothing suggests that erin's view is on screen: no anonymous results, no badge.
    assert _titles(browser) == []
    assert _text(browser, "identity") == "anonymous"
    assert _text(browser, "summary") == ""


def test_an_error_clears_the_previous_results(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url + "/")
    _open_panel(browser, "options-panel")
    Select(browser.find_element(By.ID, "page-size")).select_by_visible_text("5")
    browser.find_element(By.ID, "q").send_keys(BROAD, Keys.ENTER)
    _search_as(browser, "zoe", groups="GROUP_engineering, GROUP_executives, GROUP_product")
    _wait(browser).until(lambda d: _text(d, "page-info") == "Page 1 of 2")
    _search_settled(browser)
    assert browser.find_element(By.ID, "facet-panel").is_displayed()
    assert _text(browser, "identity") == "testing as zoe"

    # A wrong admin key: results, facets, pager, groups and the badge all go.
    key = browser.find_element(By.ID, "admin-key")
    key.clear()
    key.send_keys("wrong-key")
    browser.find_element(By.ID, "test-apply").click()
    error = browser.find_element(By.ID, "error")
    _wait(browser).until(lambda d: error.is_displayed())
    assert "admin key is not valid" in error.text
    assert _titles(browser) == []
    assert _text(browser, "summary") == ""
    assert not browser.find_element(By.ID, "facet-panel").is_displayed()
    assert not browser.find_element(By.ID, "pager").is_displayed()
    assert not browser.find_element(By.ID, "test-groups-out").is_displayed()
    assert "testing as" not in _text(browser, "identity")

    # A bad user token after a good search: the same.
    browser.get(base_url + "/")
    browser.find_element(By.ID, "q").send_keys("vacation days", Keys.ENTER)
    _wait(browser).until(lambda d: _text(d, "summary") == "3 results")
    _open_panel(browser, "options-panel")
    browser.find_element(By.ID, "user-token").send_keys("not-a-token")
    browser.find_element(By.ID, "search").click()
    _wait(browser).until(lambda d: d.find_element(By.ID, "error").is_displayed())
    assert "401" in _text(browser, "error")
    assert _titles(browser) == []
    assert _text(browser, "summary") == ""
    assert not browser.find_element(By.ID, "facet-panel").is_displayed()


def test_results_read_as_words_not_raw_fields(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url + "/")
    browser.find_element(By.ID, "q").send_keys("vacation days", Keys.ENTER)
    _wait(browser).until(lambda d: _text(d, "summary") == "3 results")
    _search_settled(browser)
    facets = _text(browser, "facets")
    assert "Content type" in facets and "File type" in facets and "Author" in facets
    assert "Document" in facets and "Plain text" in facets
    for raw in ("_category", "_file_type", "_authors", "documentLibrary", "PLAIN_TEXT"):
        assert raw not in facets
    first = browser.find_element(By.CSS_SELECTOR, "#results .result:first-child")
    assert "score" not in first.text.lower()
    facts = first.find_element(By.CSS_SELECTOR, ".facts").text
    assert "Document · Plain text" in facts
    assert "Modified" in facts and "2025" in facts
    assert "by hr-team" in facts
    _screenshot(browser, "results")


def test_sort_date_filter_and_back_button(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url + "/")
    browser.find_element(By.ID, "q").send_keys(BROAD, Keys.ENTER)
    _wait(browser).until(lambda d: _text(d, "summary") == "3 results")
    _search_settled(browser)
    Select(browser.find_element(By.ID, "sort")).select_by_value("oldest")
    _wait(browser).until(lambda d: "sort=oldest" in d.current_url)
    _search_settled(browser)
    assert _titles(browser) == [
        "New hire onboarding checklist",
        "Travel expense reimbursement",
        "Vacation and paid time off policy",
    ]
    Select(browser.find_element(By.ID, "sort")).select_by_value("newest")
    _wait(browser).until(lambda d: "sort=newest" in d.current_url)
    _search_settled(browser)
    assert _titles(browser)[0] == "Vacation and paid time off policy"
    # The corpus was last modified in 2025: nothing is from the past week.
    Select(browser.find_element(By.ID, "since")).select_by_value("7")
    _wait(browser).until(lambda d: _text(d, "summary") == "No results")
    # Back restores the previous page state, and a bookmark reopens it.
    browser.back()
    _wait(browser).until(lambda d: _text(d, "summary") == "3 results")
    assert browser.find_element(By.ID, "since").get_attribute("value") == ""
    assert browser.find_element(By.ID, "sort").get_attribute("value") == "newest"
    bookmark = browser.current_url
    browser.get(base_url + "/")
    browser.get(bookmark)
    _wait(browser).until(lambda d: _text(d, "summary") == "3 results")
    _search_settled(browser)
    assert _titles(browser)[0] == "Vacation and paid time off policy"
    assert browser.find_element(By.ID, "q").get_attribute("value") == BROAD


def test_a_phone_sized_window_has_no_sideways_scrolling(browser: WebDriver, base_url: str) -> None:
    browser.set_window_size(390, 844)
    try:
        browser.get(base_url + "/?q=vacation+days")
        _wait(browser).until(lambda d: _text(d, "summary") == "3 results")
        _search_settled(browser)
        _search_as(browser, "erin", groups="GROUP_a_rather_long_group_name_that_used_to_overflow")
        _wait(browser).until(lambda d: d.find_element(By.ID, "test-groups-out").is_displayed())
        _search_settled(browser)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        viewport = browser.execute_script("return window.innerWidth")
        assert width <= viewport
        browser.execute_script("window.scrollTo(0, 0)")
        _screenshot(browser, "mobile")
    finally:
        browser.set_window_size(1280, 900)


def test_the_console_has_a_favicon(base_url: str) -> None:
    import httpx

    for path in ("/favicon.ico", "/console/favicon.svg"):
        response = httpx.get(base_url + path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")


def test_a_signed_user_token_searches_as_that_user(browser: WebDriver, base_url: str) -> None:
    """What `quarry token --user erin` prints, pasted into the console's token field."""
    browser.get(base_url + "/")
    _open_panel(browser, "options-panel")
    browser.find_element(By.ID, "user-token").send_keys(mint("erin"))
    browser.find_element(By.ID, "q").send_keys("vacation days kubernetes outage", Keys.ENTER)
    _wait(browser).until(lambda d: "Deploying services on Kubernetes" in _titles(d))
    _search_settled(browser)
    assert _text(browser, "summary") == "5 results"
    assert _text(browser, "identity") == "signed-in token"


def test_answers_faqs_and_featured_results_are_shown_and_marked(
    browser: WebDriver, base_url: str
) -> None:
    import httpx

    from tests.integration.test_api_support import ADMIN

    faq = httpx.post(
        base_url + "/v1/faqs",
        headers=ADMIN,
        json={"name": "console", "content": "Can I carry over unused vacation days?,Up to five.\n"},
        timeout=60,
    )
    assert faq.status_code == 201, faq.text
    pinned = httpx.post(
        base_url + "/v1/featured-results",
        headers=ADMIN,
        json={"name": "console", "query_terms": ["accrue"], "document_ids": ["corpus:onboarding"]},
        timeout=60,
    )
    assert pinned.status_code == 201, pinned.text
    try:
        browser.get(base_url + "/")
        box = browser.find_element(By.ID, "q")
        box.send_keys("How many days of paid vacation do employees accrue?", Keys.ENTER)
        _wait(browser).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, '#answers [data-type="ANSWER"] mark'))
        )
        _search_settled(browser)
        answer = browser.find_element(By.CSS_SELECTOR, '#answers [data-type="ANSWER"]')
        assert "suggested answer" in answer.text.lower()
        assert answer.find_element(By.TAG_NAME, "mark").text == (
            "Employees accrue twenty days of paid vacation per year."
        )
        featured = browser.find_elements(By.CSS_SELECTOR, "#featured .result")
        assert [f.find_element(By.TAG_NAME, "h3").text for f in featured] == [
            "New hire onboarding checklist"
        ]
        assert "featured" in featured[0].text.lower()
        assert "New hire onboarding checklist" not in _titles(browser)

        box.clear()
        box.send_keys("can I carry over my unused vacation days", Keys.ENTER)
        _wait(browser).until(
            ec.presence_of_element_located(
                (By.CSS_SELECTOR, '#answers [data-type="QUESTION_ANSWER"]')
            )
        )
        faq_box = browser.find_element(By.CSS_SELECTOR, '#answers [data-type="QUESTION_ANSWER"]')
        assert "faq" in faq_box.text.lower() and "Up to five." in faq_box.text
        assert browser.find_elements(By.CSS_SELECTOR, "#featured .result") == []
    finally:
        httpx.delete(f"{base_url}/v1/faqs/{faq.json()['id']}", headers=ADMIN, timeout=60)
        httpx.delete(
            f"{base_url}/v1/featured-results/{pinned.json()['id']}", headers=ADMIN, timeout=60
        )


@pytest.fixture
def copies(runtime: Runtime) -> Iterator[None]:
    """One handbook in two data sources quinn may read and in a third only victor may read."""
    from acl import AccessControlList
    from connectors.models import Document

    text = "Zephyr telescope handbook: align the mirror, cool the sensor, log each star field."
    placed = [
        ("dedup-fs", "e2e:fs:handbook", "Guides/2026", None, "quinn"),
        (
            "dedup-alf",
            "e2e:alf:handbook",
            "people/documentLibrary/Guides",
            "https://alfresco.example/share/page/document-details?nodeRef=handbook",
            "quinn",
        ),
        ("dedup-secret", "e2e:secret:handbook", "board/documentLibrary", None, "victor"),
    ]
    for source, doc_id, folder, uri, reader in placed:
        doc = Document(
            id=doc_id,
            title="Zephyr handbook",
            text=text,
            folder=folder,
            source_uri=uri,
            acl=AccessControlList(allow_users=[reader]),
        )
        assert not runtime.pipeline.write_batch(source, [doc]).failed
    runtime.writer.refresh()
    yield
    runtime.writer.delete([doc_id for _, doc_id, _, _, _ in placed])
    runtime.writer.refresh()


def test_copies_show_as_one_result_with_where_else_it_lives(
    browser: WebDriver, base_url: str, copies: None
) -> None:
    browser.get(base_url + "/")
    _open_panel(browser, "options-panel")
    token = browser.find_element(By.ID, "user-token")
    token.clear()
    token.send_keys(mint("quinn"))
    browser.find_element(By.ID, "q").send_keys("zephyr handbook", Keys.ENTER)
    _wait(browser).until(lambda d: "Zephyr handbook" in _titles(d))
    _search_settled(browser)
    titles = _titles(browser)
    assert titles.count("Zephyr handbook") == 1  # three copies, two readable: one result
    result = browser.find_elements(By.CSS_SELECTOR, "#results .result")[
        titles.index("Zephyr handbook")
    ]
    also = result.find_element(By.CSS_SELECTOR, ".also-in").text
    facts = result.find_element(By.CSS_SELECTOR, ".facts").text
    fs_place, alf_place = "dedup-fs: Guides/2026", "dedup-alf: people/documentLibrary/Guides"
    if "Source: dedup-fs" in facts:
        assert "Folder: Guides/2026" in facts
        assert also == f"Also in: {alf_place}"
        link = result.find_element(By.CSS_SELECTOR, ".also-in a")
        assert link.get_attribute("href").startswith("https://alfresco.example/")
    else:
        assert "Folder: people/documentLibrary/Guides" in facts
        assert also == f"Also in: {fs_place}"
    # The copy quinn may not read is mentioned nowhere.
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "dedup-secret" not in page and "board/documentLibrary" not in page
