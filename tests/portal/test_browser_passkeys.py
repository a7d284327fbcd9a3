"""A passkey as the second factor, in Debian's Chromium with a virtual authenticator (Chrome
DevTools' WebAuthn domain): added on the account page, then asked for at the next sign-in."""

from __future__ import annotations

import dataclasses

import pytest

from clearroom.server.accounts.models import Passkey
from tests.portal.conftest import make_world
from tests.portal.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_passkey_is_added_then_used_to_sign_in(live_server, settings) -> None:  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    settings.CONFIG = dataclasses.replace(settings.CONFIG, base_url=live_server.url)
    make_world(password=PASSWORD)
    base = live_server.url

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            page = context.new_page()
            devtools = context.new_cdp_session(page)
            devtools.send("WebAuthn.enable")
            devtools.send(
                "WebAuthn.addVirtualAuthenticator",
                {
                    "options": {
                        "protocol": "ctap2",
                        "transport": "internal",
                        "hasResidentKey": True,
                        "hasUserVerification": True,
                        "isUserVerified": True,
                    }
                },
            )

            def sign_in() -> None:
                page.goto(f"{base}/login/?next=/help/")
                page.get_by_label("User name").fill("mia")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()

            sign_in()
            expect(page.get_by_text("Signed in as mia")).to_be_visible()
            page.goto(f"{base}/-/account/")
            page.get_by_label("Name it").fill("laptop")
            page.get_by_role("button", name="Add a passkey").click()
            expect(page.get_by_role("row").filter(has_text="laptop")).to_be_visible()
            page.get_by_role("button", name="Sign out").click()

            sign_in()
            page.wait_for_url(f"{base}/login/second-factor")
            page.get_by_role("button", name="Use a passkey").click()
            page.wait_for_url(f"{base}/help/")
            expect(page.get_by_text("Signed in as mia")).to_be_visible()
        finally:
            browser.close()
    used = Passkey.objects.get(name="laptop")
    assert used.last_used_at is not None
