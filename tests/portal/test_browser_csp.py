"""The Content-Security-Policy in a real browser (Debian's Chromium): the portal's pages (the
account page loads the passkeys script; test_browser_passkeys uses it) and the API's
interactive documentation work under it, and the browser reports no violation. Skips where
Chromium is not installed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.portal.conftest import make_world, release_url
from tests.portal.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_and_api_docs_run_under_the_csp_without_violations(live_server) -> None:  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    world = make_world(password=PASSWORD)
    pages = [reverse("portal:home"), release_url(world.published), reverse("portal:help")]
    violations: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            page.on(
                "console",
                lambda message: (
                    violations.append(message.text)
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
            page.goto(f"{live_server.url}{reverse('portal:login')}")
            page.get_by_label("User name").fill("mia")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
            for url in [*pages, reverse("portal:account")]:
                page.goto(live_server.url + url)
                expect(page.get_by_role("heading", level=1)).to_be_visible()
            page.goto(live_server.url + "/api/docs")
            expect(page.get_by_role("heading", level=1)).to_contain_text(
                "Clearroom API", timeout=30_000
            )
        finally:
            browser.close()
    assert violations == []
