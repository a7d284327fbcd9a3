"""A vendor maintainer checks a release in a real browser (Debian's Chromium driven by
Playwright): signs in, reads the SHA-256, downloads the artifact and compares the bytes; the page
keeps its accessibility basics in the live DOM. Skips where Chromium is not installed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.urls import reverse

from tests.portal.conftest import FIRMWARE, make_world, release_url

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "a long test password 7"

A11Y_BASICS = """() => {
  const found = [];
  if (!document.documentElement.lang) found.push("no lang attribute");
  const main = document.querySelector("main");
  if (!main) found.push("no main landmark");
  const first = document.querySelector("a");
  if (!main || !first || first.getAttribute("href") !== "#" + main.id) found.push("no skip link");
  if (document.querySelectorAll("h1").length !== 1) found.push("not exactly one h1");
  let last = 0;
  for (const h of document.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    const level = Number(h.tagName[1]);
    if (level > last + 1) found.push("skipped heading level before " + h.textContent.trim());
    last = level;
  }
  const fields = document.querySelectorAll(
    "input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea");
  for (const el of fields) {
    const labelled = (el.labels && el.labels.length > 0) || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby");
    if (!labelled) found.push("unlabelled field " + (el.name || el.id));
  }
  for (const th of document.querySelectorAll("th")) if (!th.scope) found.push("th without scope");
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) found.push("img without alt");
  }
  for (const b of document.querySelectorAll("button")) {
    if (!b.textContent.trim()) found.push("empty button");
  }
  return found;
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_maintainer_checks_and_downloads_a_release(live_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    # All database work happens before Playwright starts: its sync API runs an event loop in
    # this thread, and Django refuses ORM calls from a thread with a running loop.
    world = make_world(password=PASSWORD)
    firmware = world.firmware
    release_page = live_server.url + release_url(world.published)
    screenshot = tmp_path / "release-page.png"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                accept_downloads=True, viewport={"width": 1280, "height": 900}
            )
            page = context.new_page()
            page.goto(
                f"{live_server.url}{reverse('portal:login')}?next={release_url(world.published)}"
            )
            page.get_by_label("User name").fill("mia")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(release_page)

            expect(page.get_by_role("heading", level=1)).to_have_text("Edge Router 2.4.1")
            expect(page.get_by_text("Signed in as mia")).to_be_visible()
            row = page.get_by_role("row").filter(has_text=firmware.name)
            shown_sha256 = row.locator("[data-sha256]").inner_text().strip()
            confidential_listed = page.get_by_text(world.confidential.name).first.is_visible()
            withdraw_form = page.get_by_label("Reason for withdrawal").is_visible()
            header_colour = page.evaluate(
                "getComputedStyle(document.querySelector('.site-header')).backgroundColor"
            )
            a11y = page.evaluate(A11Y_BASICS)
            page.screenshot(path=str(screenshot), full_page=True)
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "[document.activeElement.textContent.trim(),"
                " getComputedStyle(document.activeElement).outlineStyle]"
            )

            with page.expect_download() as download_info:
                page.get_by_role("link", name=f"Download {firmware.name}").click()
            download = download_info.value
            downloaded = Path(download.path()).read_bytes()
            suggested_name = download.suggested_filename
        finally:
            browser.close()

    print(f"screenshot: {screenshot}")
    assert shown_sha256 == firmware.sha256 == hashlib.sha256(FIRMWARE).hexdigest()
    assert downloaded == FIRMWARE
    assert suggested_name == firmware.name
    assert confidential_listed and withdraw_form
    assert header_colour == "rgb(18, 60, 105)"  # the stylesheet was served and applied
    assert a11y == []
    assert focused[0] == "Skip to main content" and focused[1] != "none"
    assert screenshot.stat().st_size > 10_000
