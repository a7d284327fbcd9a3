"""The main journeys in a real browser (Debian's Chromium driven by Playwright), each party in
its own browser context: the vendor publishes; a regulator requests an evaluation, the vendor
grants access, the regulator downloads a confidential file and raises a finding; the vendor's
expert answers; the public views the showcase; a customer follows the product and is notified
of new vulnerability findings. Skips where Chromium is not installed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from clearroom.server.accounts.models import Membership, Organisation, User
from clearroom.server.authz import Actor
from clearroom.server.catalog import services as catalog
from clearroom.server.vulnerabilities import services as vulns
from tests.conftest import load_scan_advisories
from tests.portal.conftest import SECRET_SOURCE, add_artifact, make_world
from tests.portal.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD

DATA = Path(__file__).parents[1] / "data" / "scan"


def _scanned_release(world, settings, tmp_path):
    """A published release whose SBOM is read but not yet matched: the advisories arrive
    while the customer watches."""
    load_scan_advisories(settings, tmp_path)
    actor = Actor(user=world.maintainer)
    release = catalog.create_release(actor, world.product, version="2.4.2")
    add_artifact(release, "edge-router-2.4.2.bin", b"firmware 2.4.2")
    from tests.portal.test_security_pages import add_document

    sbom = add_document(release, "app.cdx.json", (DATA / "app.cdx.json").read_bytes(), "sbom")
    release = catalog.publish_release(actor, release)
    vulns.ingest_sbom(sbom)
    return release


def _in_a_thread(work):
    """Django's ORM refuses a thread running Playwright's event loop: run ``work`` beside it."""
    failure: list[BaseException] = []

    def run():
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    if failure:
        raise failure[0]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_parties_work_on_a_release(live_server, settings, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    monkeypatch.setattr(catalog, "enqueue", lambda *a, **k: 0)
    monkeypatch.setattr(vulns, "enqueue", lambda *a, **k: 0)
    world = make_world(password=PASSWORD)
    expert = User.objects.create_user("ed", password=PASSWORD)
    Membership.objects.create(user=expert, organisation=world.vendor, role="expert")
    telco = Organisation.objects.create(slug="telco", name="Northwind Telecom", kind="customer")
    customer = User.objects.create_user("cara", password=PASSWORD)
    Membership.objects.create(user=customer, organisation=telco, role="expert")
    scanned = _scanned_release(world, settings, tmp_path)
    base = live_server.url

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        def signed_in(username: str):
            context = browser.new_context(accept_downloads=True)
            page = context.new_page()
            page.goto(f"{base}/login/")
            page.get_by_label("User name").fill(username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
            return page

        try:
            # the vendor publishes its draft
            mia = signed_in("mia")
            mia.goto(f"{base}/orgs/acme/edge-router/2.5.0-rc1/")
            mia.get_by_role("button", name="Publish 2.5.0-rc1").click()
            expect(mia.get_by_text("is published and visible to everyone")).to_be_visible()

            # a regulator asks to evaluate the published release
            otto = signed_in("otto")
            otto.goto(f"{base}/orgs/acme/edge-router/2.4.1/")
            otto.get_by_text("Request an evaluation of this release").click()
            otto.get_by_label("Standard").fill("ETSI EN 303 645 v2.1.1")
            otto.get_by_role("button", name="Request the evaluation").click()
            expect(otto.get_by_text("Evaluation requested")).to_be_visible()
            evaluation_url = otto.url

            # the vendor's owner hears of it and grants access
            olga = signed_in("olga")
            olga.goto(f"{base}/-/notifications/")
            olga.get_by_role("link", name="asks to evaluate").first.click()
            olga.get_by_role("button", name="Accept and grant access").click()
            expect(olga.get_by_text("Accepted: the evaluator may read")).to_be_visible()

            # the regulator downloads the confidential file and raises a finding
            otto.goto(f"{base}/orgs/acme/edge-router/2.4.1/")
            with otto.expect_download() as download_info:
                otto.get_by_role("link", name="Download build-recipe.txt").click()
            confidential = Path(download_info.value.path()).read_bytes()
            otto.goto(evaluation_url)
            otto.get_by_text("Raise a finding").click()
            otto.get_by_label("Title").fill("Debug UART gives a root shell")
            otto.get_by_label("Description").fill("Pins J4 expose a root console. @ed")
            otto.get_by_role("button", name="Raise the finding").click()
            expect(otto.get_by_role("heading", level=1)).to_contain_text("Debug UART")
            finding_url = otto.url

            # the vendor's expert, mentioned, answers and acknowledges
            ed = signed_in("ed")
            ed.goto(f"{base}/-/notifications/")
            ed.get_by_role("link", name="mentioned you").first.click()
            ed.get_by_label("Reply").fill("Confirmed; the console is disabled in 2.5.0.")
            ed.get_by_role("button", name="Post").click()
            ed.get_by_label("New status").select_option("acknowledged")
            ed.get_by_role("button", name="Change the status").click()
            expect(ed.get_by_text("Status changed")).to_be_visible()
            otto.goto(finding_url)
            expect(otto.get_by_text("disabled in 2.5.0")).to_be_visible()
            expect(otto.get_by_text("Acknowledged").first).to_be_visible()

            # the public views the showcase
            public = browser.new_context().new_page()
            public.goto(f"{base}/orgs/acme/-/showcase/")
            expect(public.get_by_role("heading", level=1)).to_contain_text("security posture")
            expect(public.get_by_role("link", name="Edge Router 2.5.0-rc1")).to_be_visible()

            # a customer follows the product; new findings reach its notifications
            cara = signed_in("cara")
            cara.goto(f"{base}/orgs/acme/edge-router/")
            cara.get_by_role("button", name="Follow Edge Router").click()
            expect(cara.get_by_role("button", name="Stop following")).to_be_visible()
            _in_a_thread(lambda: vulns.evaluate(scanned))
            cara.goto(f"{base}/-/notifications/")
            note = cara.get_by_role("link", name="new vulnerability finding")
            expect(note.first).to_be_visible()
            note.first.click()
            expect(cara.get_by_role("heading", level=1)).to_contain_text("2.4.2")
        finally:
            browser.close()

    assert confidential == SECRET_SOURCE
