"""The transparency log in the portal: the log's page (its signed state, witnesses, newest
entries and the commands to check it), each release's facts and receipts on the release page,
and the help page's explanation. What a visitor copies from these pages must verify."""

from __future__ import annotations

import base64
import dataclasses
import html
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from typer.testing import CliRunner

from clearroom.cli.main import app as clearroom_cli
from clearroom.server.authz import Actor
from clearroom.server.catalog import services
from clearroom.server.transparency import identity
from clearroom.server.transparency.models import LogEntry
from clearroom.tlog.checkpoint import open_checkpoint
from clearroom.tlog.layout import CHECKPOINT_KEY
from clearroom.tlog.note import CosignatureSigner, parse_verifier_key, signature_lines
from clearroom.tlog.receipt import Receipt, verify_receipt
from tests.portal.a11y import problems
from tests.portal.conftest import SECRET_SOURCE, World, add_artifact, make_world, release_url

LOG_PAGE = "/log/"
EVERYONE = ["anonymous", "outsider", "viewer", "maintainer"]


def actor(world: World) -> Actor:
    return Actor(user=world.maintainer)


def page(client: Client, url: str = LOG_PAGE) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def verifier_key(html_text: str) -> str:
    return html.unescape(found(r'<code class="digest" id="verifier-key">([^<]+)</code>', html_text))


def entries_table(html_text: str) -> str:
    start = html_text.index('<table class="log-entries">')
    return html_text[start : html_text.index("</table>", start)]


def rows(html_text: str) -> list[str]:
    return entries_table(html_text).split("<tr>")[2:]  # after the header row


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match is not None, f"{pattern!r} not in {text[:500]!r}"
    return match.group(1)


def index_of(row: str) -> int:
    return int(found(r'<th scope="row">(\d+)</th>', row))


# --- the log's page ---------------------------------------------------------------------------


def test_an_empty_log_says_so_and_still_publishes_its_key(db: None, own_log: object) -> None:
    text = page(Client())
    key = identity.verifier().to_key()
    assert verifier_key(text) == key
    assert f"<code>{identity.verifier().name}</code>" in text  # the origin
    assert "0 entries" in text
    assert "No checkpoint has been published yet" in text
    assert "No entry has been logged yet." in text
    assert f"clearroom log monitor http://127.0.0.1:8000/log/ --key '{key}'" in text
    assert Client().get("/log/key").content.decode().strip() == key  # the same key, served


def test_waiting_facts_are_counted_before_they_are_logged(world: World, own_log: object) -> None:
    text = page(Client())
    assert "<dt>Facts waiting</dt><dd>4 " in text  # the release and its three files
    assert "No entry has been logged yet." in text


@pytest.mark.parametrize("who", EVERYONE)
def test_the_page_shows_the_signed_state_that_verifies_under_the_shown_key(
    world: World, log_writer, who: str
) -> None:
    log_writer()
    text = page(world.client(who))
    key = parse_verifier_key(verifier_key(text))
    served = Client().get("/log/checkpoint").content
    checkpoint, _ = open_checkpoint(served, key)
    assert checkpoint.size == 4
    assert html.escape(served.decode(), quote=False) in text  # the exact signed note
    assert f'<code class="digest">{base64.b64encode(checkpoint.root_hash).decode()}</code>' in text
    assert "4 entries" in text
    assert "<dt>Facts waiting</dt><dd>0</dd>" in text
    assert f'href="{reverse("api:log")}"' in text


@pytest.mark.parametrize("who", EVERYONE)
def test_recent_entries_name_their_release_and_public_files_but_not_confidential_names(
    world: World, log_writer, who: str
) -> None:
    log_writer()
    text = page(world.client(who))
    table = rows(text)
    assert [index_of(r) for r in table] == [3, 2, 1, 0]  # newest first
    by_index = {index_of(r): r for r in table}
    assert "Release published" in by_index[0]
    assert f'href="{release_url(world.published)}">acme/edge-router@2.4.1</a>' in by_index[0]
    logged = {e.index: e for e in LogEntry.objects.select_related("artifact", "document")}
    confidential = next(i for i, e in logged.items() if e.artifact == world.confidential)
    firmware = next(i for i, e in logged.items() if e.artifact == world.firmware)
    sbom = next(i for i, e in logged.items() if e.document == world.sbom)
    assert "Confidential file" in by_index[confidential]
    assert world.confidential.sha256[:12] in by_index[confidential]
    assert world.firmware.name in by_index[firmware]
    assert world.firmware.sha256[:12] + "…" in by_index[firmware]
    assert "Document (sbom)" in by_index[sbom] and world.sbom.name in by_index[sbom]
    # The log states what is public; a confidential file's name is in no entry, so nowhere here.
    assert world.confidential.name not in text


def test_entry_links_lead_to_the_entry_and_a_receipt_that_verifies(
    world: World, log_writer
) -> None:
    log_writer()
    client = Client()
    text = page(client)
    key = parse_verifier_key(verifier_key(text))
    for row in rows(text):
        entry_url = found(r'href="(/api/log/entries/[0-9a-f]{64})"', row)
        receipt_url = found(r'href="(/api/log/entries/[0-9a-f]{64}/receipt)"', row)
        entry = client.get(entry_url).json()
        data = base64.b64decode(entry["entry_base64"])
        receipt = client.get(receipt_url).content.decode()
        checkpoint, _ = verify_receipt(Receipt.parse(receipt), data, key)
        assert f'<th scope="row">{Receipt.parse(receipt).index}</th>' in row
        assert checkpoint.size == 4


def test_an_entry_not_yet_in_a_published_checkpoint_has_no_receipt_link(
    world: World, log_writer
) -> None:
    log_writer()
    services.withdraw_release(actor(world), world.published, reason="CVE-2026-0002")
    # Sequenced (it has an index) but not yet integrated into a published checkpoint.
    LogEntry.objects.filter(index__isnull=True).update(index=4)
    text = page(Client())
    newest = rows(text)[0]
    assert '<th scope="row">4</th>' in newest and "Release withdrawn" in newest
    assert "receipt pending" in newest and "/receipt" not in newest
    assert "/receipt" in rows(text)[1]


def test_older_entries_are_a_link_away(world: World, log_writer, monkeypatch) -> None:
    from clearroom.server.portal import log_views

    log_writer()
    monkeypatch.setattr(log_views, "RECENT", 3)
    first = page(Client())
    assert [index_of(r) for r in rows(first)] == [3, 2, 1]
    assert 'href="?before=1">Older entries</a>' in first
    older = page(Client(), LOG_PAGE + "?before=1")
    assert [index_of(r) for r in rows(older)] == [0]
    assert "Older entries</h2>" in older and "Older entries</a>" not in older
    assert f'href="{LOG_PAGE}">Newest entries</a>' in older
    assert "No older entry." in page(Client(), LOG_PAGE + "?before=0")
    # Anything that is not an index shows the newest entries.
    assert rows(page(Client(), LOG_PAGE + "?before=x'")) == rows(first)


def test_the_verify_box_gives_commands_that_work(world: World, log_writer, tmp_path: Path) -> None:
    log_writer()
    client = Client()
    text = page(client)
    key = verifier_key(text)
    base = "http://127.0.0.1:8000"  # the configured base_url: the public address
    assert f"clearroom log monitor {base}/log/ --key '{key}'" in text
    assert f"curl -s {base}/log/checkpoint" in text
    assert f"{base}/api/log/entries?sha256=" in text
    # The receipt commands name the newest entry: run them (through the test client) and verify.
    entry_path = found(rf"curl -s {base}(/api/log/entries/[0-9a-f]{{64}}) \| jq", text)
    entry = client.get(entry_path).json()
    (tmp_path / "entry.json").write_bytes(base64.b64decode(entry["entry_base64"]))
    assert f"curl -s -o entry.tlog-proof {base}{entry_path}/receipt" in text
    (tmp_path / "entry.tlog-proof").write_bytes(client.get(entry_path + "/receipt").content)
    command = found(r"clearroom log verify (.+)</code>", text)
    args = [a.strip("'") for a in html.unescape(command).split()]
    args = [str(tmp_path / a) if a.startswith("entry.") else a for a in args]
    result = CliRunner().invoke(clearroom_cli, ["log", "verify", *args])
    assert result.exit_code == 0, result.output
    assert "verified" in result.output


def test_witnesses_and_their_verified_cosignatures_are_shown(
    world: World, log_writer, settings
) -> None:
    log_writer()
    witness = CosignatureSigner("witness.example/w1", b"\x33" * 32, clock=lambda: 1_700_000_000)
    stranger = CosignatureSigner("stranger.example/w9", b"\x44" * 32, clock=lambda: 1_700_000_001)
    settings.CONFIG = dataclasses.replace(
        settings.CONFIG,
        tlog_witnesses=(f"https://witness.example/w1 {witness.verifier().to_key()}",),
    )
    identity.witnesses.cache_clear()
    note = identity.public_files().get(CHECKPOINT_KEY)
    body = note.decode().split("\n\n", 1)[0] + "\n"
    cosigned = note + signature_lines(body, [witness, stranger]).encode()
    identity.public_files().put(CHECKPOINT_KEY, cosigned)

    text = page(Client())
    assert "https://witness.example/w1" in text
    assert witness.verifier().to_key() in text
    assert f"--cosigner '{witness.verifier().to_key()}'" in text
    cosignatures = text[text.index("Verified cosignatures") : text.index("Witnesses this log asks")]
    assert "witness.example/w1" in cosignatures and f"{witness.key_id:08x}" in cosignatures
    moment = datetime.fromtimestamp(1_700_000_000, UTC)
    assert f'datetime="{moment.isoformat()}"' in cosignatures
    assert "stranger.example" not in cosignatures  # only cosignatures of configured witnesses


def test_a_checkpoint_that_does_not_verify_is_flagged_not_shown(world: World, log_writer) -> None:
    log_writer()
    note = identity.public_files().get(CHECKPOINT_KEY)
    identity.public_files().put(CHECKPOINT_KEY, note.replace(b"\n4\n", b"\n5\n", 1))
    text = page(Client())
    assert "The published checkpoint does not verify." in text
    assert "Signed checkpoint" in text and "No checkpoint has been published yet" in text


# --- the release page -------------------------------------------------------------------------


def test_release_page_shows_pending_facts_before_they_are_logged(
    world: World, own_log: object
) -> None:
    text = page(world.client("maintainer"), release_url(world.published))
    assert "In the transparency log" in text
    assert "Release published:" in text and text.count(">pending</span>") == 4  # release + 3 files
    assert "/receipt" not in text


def test_release_page_links_each_file_and_the_release_to_their_entries_and_receipts(
    world: World, log_writer
) -> None:
    log_writer()
    text = page(world.client("maintainer"), release_url(world.published))
    for stored in (world.firmware, world.confidential, world.sbom):
        entry = stored.log_entries.get()  # type: ignore[attr-defined]
        url = reverse("api:log-entry", kwargs={"leaf_hash": entry.leaf_hash})
        row = text[text.index(f'<th scope="row" class="file-name">{stored.name}</th>') :]
        row = row[: row.index("</tr>")]
        assert f'href="{url}"' in row and f"#{entry.index}" in row
        assert f'href="{url}/receipt" download' in row
    publication = world.published.log_entries.get(artifact=None, document=None)
    assert (
        f'Release published:\n      entry <a href="/api/log/entries/{publication.leaf_hash}">'
        f"#{publication.index}</a>" in text
    )
    assert ">pending</span>" not in text


def test_release_page_shows_the_withdrawal_fact_too(world: World, log_writer) -> None:
    log_writer()
    services.withdraw_release(actor(world), world.published, reason="CVE-2026-0002")
    text = page(Client(), release_url(world.published))
    assert "Release published:" in text and "Release withdrawn:" in text
    assert text.index("Release published:") < text.index("Release withdrawn:")
    assert "pending</span> — committed" in text  # the withdrawal waits for its index
    log_writer()
    text = page(Client(), release_url(world.published))
    assert re.search(
        r"Release withdrawn:\s+entry <a href=\"/api/log/entries/[0-9a-f]{64}\">#4</a>", text
    )


def test_anonymous_visitors_see_no_confidential_file_on_the_release_page(
    world: World, log_writer
) -> None:
    log_writer()
    text = page(Client(), release_url(world.published))
    assert world.confidential.name not in text
    assert f"#{world.confidential.log_entries.get().index}</span>" not in text  # type: ignore[attr-defined]


def test_a_draft_has_no_log_column(world: World) -> None:
    text = page(world.client("maintainer"), release_url(world.draft))
    assert '<th scope="col">Log</th>' not in text
    assert "In the transparency log" not in text


def test_release_page_queries_do_not_grow_with_its_files(world: World, log_writer) -> None:
    bigger = services.create_release(actor(world), world.product, version="2.4.2")
    for n in range(8):
        add_artifact(bigger, f"extra-{n}.bin", SECRET_SOURCE + bytes([n]))
    services.publish_release(actor(world), bigger)
    log_writer()
    client = world.client("maintainer")
    with CaptureQueriesContext(connection) as three_files:
        page(client, release_url(world.published))
    with CaptureQueriesContext(connection) as eight_files:
        text = page(client, release_url(bigger))
    assert text.count('/receipt" download') == 8 + 1  # every file, and the publication
    # (the bigger release has no document, so it may even need one query fewer)
    assert len(eight_files.captured_queries) <= len(three_files.captured_queries)


# --- help and accessibility -------------------------------------------------------------------


def test_help_explains_the_log_and_the_lookup_by_digest(db: None) -> None:
    text = page(Client(), reverse("portal:help"))
    section = text[text.index('<section id="log"') :]
    section = section[: section.index("</section>")]
    for term in ("Fact", "Entry", "Checkpoint", "Receipt", "Witness"):
        assert f"<dt>{term}</dt>" in section
    assert "http://testserver/api/log/entries?sha256=$(sha256sum" in section
    assert f'href="{LOG_PAGE}"' in section
    assert 'href="#log">The transparency log</a>' in text


@pytest.mark.parametrize("who", EVERYONE)
def test_log_pages_have_the_accessibility_basics(world: World, log_writer, who: str) -> None:
    client = world.client(who)
    assert problems(page(client)) == []  # facts waiting, nothing logged yet
    log_writer()
    for url in (LOG_PAGE, LOG_PAGE + "?before=2", LOG_PAGE + "?before=0"):
        assert problems(page(client, url)) == [], url
    assert problems(page(client, release_url(world.published))) == []


# --- in a real browser ------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_visitor_reads_the_log_and_reaches_a_files_receipt(  # type: ignore[no-untyped-def]
    live_server, log_writer, tmp_path: Path
) -> None:
    from tests.portal.test_browser import A11Y_BASICS, CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    world = make_world()  # all database work before Playwright starts its event loop
    log_writer()
    firmware = world.firmware
    key = identity.verifier().to_key()
    screenshot = tmp_path / "log-page.png"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page_ = browser.new_page(viewport={"width": 1280, "height": 900})
            page_.goto(live_server.url + LOG_PAGE)
            expect(page_.get_by_role("heading", level=1)).to_have_text("Transparency log")
            shown_key = page_.locator("#verifier-key").inner_text()
            a11y = page_.evaluate(A11Y_BASICS)
            table = page_.get_by_role("table", name="Log entries, newest first")
            entries = table.get_by_role("row").count() - 1
            page_.screenshot(path=str(screenshot), full_page=True)
            table.get_by_role("row").filter(has_text=firmware.name).get_by_role(
                "link", name="acme/edge-router@2.4.1"
            ).click()
            page_.wait_for_url(live_server.url + release_url(world.published))
            page_.screenshot(path=str(tmp_path / "release-page.png"), full_page=True)
            row = page_.get_by_role("row").filter(has_text=firmware.name)
            with page_.expect_download() as download_info:
                row.get_by_role("link", name=f"Receipt for {firmware.name}").click()
            receipt = Path(download_info.value.path()).read_text()
        finally:
            browser.close()

    print(f"screenshot: {screenshot}")
    assert shown_key == key and a11y == [] and entries == 4
    entry = bytes(firmware.log_entries.get().entry)  # type: ignore[attr-defined]
    checkpoint, _ = verify_receipt(Receipt.parse(receipt), entry, parse_verifier_key(key))
    assert checkpoint.size == 4
