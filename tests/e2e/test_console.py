"""The search console in headless Chromium against a real uvicorn server, index and ACLs.

Needs Debian's ``chromium`` and ``chromium-driver`` (``apt-get install -y chromium
chromium-driver``); without them the tests skip and say so. Leaves a screenshot at
``docs/console.png``.
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
from tests.integration.test_api_support import ADMIN_KEY
from tests.stack import ROOT, wait_until

pytest_plugins = ["tests.integration.test_api_support"]  # the API fixtures

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOT = ROOT / "docs" / "console.png"
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


def _search_settled(driver: WebDriver) -> None:
    _wait(driver).until(
        lambda d: d.find_element(By.ID, "results").get_attribute("aria-busy") is None
    )


def test_query_shows_highlighted_results_facets_and_test_as_user(
    browser: WebDriver, base_url: str
) -> None:
    browser.get(base_url + "/")
    assert browser.title == "Quarry search console"
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
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000

    # A facet value re-queries with an attribute filter.
    wiki = browser.find_element(
        By.CSS_SELECTOR, '.facet-value[data-attribute="_category"][data-value="wiki"]'
    )
    assert wiki.find_element(By.CSS_SELECTOR, ".count").text == "1"
    wiki.click()
    _wait(browser).until(lambda d: d.find_element(By.ID, "summary").text == "1 result")
    assert _titles(browser) == ["Deploying services on Kubernetes"]
    assert "_category = wiki" in browser.find_element(By.ID, "filters").text
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
    assert browser.find_element(By.ID, "summary").text == "7 results"
    browser.find_element(By.ID, "next").click()
    _wait(browser).until(lambda d: d.find_element(By.ID, "page-info").text == "Page 2 of 2")
    _search_settled(browser)
    second_page = _titles(browser)
    assert len(second_page) == 2
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
