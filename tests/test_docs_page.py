"""The API docs page renders in a real browser with nothing fetched from outside the app."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.support.browser import chromium


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def test_swagger_ui_lists_operations_using_only_local_assets(app, live_server, browser):
    page = browser.new_page()
    requested_hosts: set[str] = set()
    page.on("request", lambda request: requested_hosts.add(urlsplit(request.url).netloc))
    page.goto(f"{live_server.url}/api/docs")
    page.wait_for_selector(".opblock", timeout=15_000)
    assert page.locator(".opblock-summary-path", has_text="/api/me").count() >= 1
    assert requested_hosts == {urlsplit(live_server.url).netloc}
    page.close()
