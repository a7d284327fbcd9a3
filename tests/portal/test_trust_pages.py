"""What the trust pages say about the demo release: every fact on the public log page is named
for what it is (a signed statement, a key event, a catalogue, an audit batch), and the release
page names who signed each statement - the vendor its manifest, the lab its verification
summary - and the kind of each of its log entries."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from clearroom.attest.predicates import PREDICATE_TYPES, SLSA_VSA
from clearroom.server.catalog.models import Release
from clearroom.server.demo import PRODUCT, VENDOR, VERSION, seed
from clearroom.server.portal import fact_kinds
from clearroom.server.transparency.models import LogEntry
from clearroom.tlog import facts

VSA = "Verification summary (SLSA VSA)"


@pytest.fixture
def demo(db, own_log, log_writer) -> Release:
    seed()
    log_writer()
    return Release.objects.get(product__slug=PRODUCT, version=VERSION)


def _text(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _section(text: str, heading_id: str) -> str:
    start = text.index(f'id="{heading_id}"')
    return text[start : text.index("</section>", start)]


def test_every_fact_kind_and_statement_kind_has_a_label() -> None:
    """A new kind of fact (tlog/facts.py) or of signed statement (attest.predicates) without a
    label in portal/fact_kinds.py fails here, before a page calls it unknown."""
    assert set(facts.FACT_TYPES) <= set(fact_kinds.FACT_LABELS)
    assert set(PREDICATE_TYPES) <= set(fact_kinds.STATEMENT_LABELS)
    for kind in facts.FACT_TYPES:
        assert fact_kinds.label({"fact": kind}) != fact_kinds.UNLABELLED_FACT, kind
    for predicate in PREDICATE_TYPES:
        fact = {"fact": facts.ATTESTATION, "predicate_type": predicate}
        assert fact_kinds.label(fact) != fact_kinds.UNLABELLED_STATEMENT, predicate


def test_an_unknown_kind_is_labelled_for_what_it_is_not_guessed() -> None:
    assert fact_kinds.label({"fact": "clearroom.dev/future/v9"}) == fact_kinds.UNLABELLED_FACT
    statement = {"fact": facts.ATTESTATION, "predicate_type": "https://example.org/new/v1"}
    assert fact_kinds.label(statement) == "Signed statement"


def test_log_page_labels_every_fact_kind(demo: Release) -> None:
    text = _text(Client(), reverse("portal:log"))
    table = text[text.index('<table class="log-entries">') :]
    table = table[: table.index("</table>")]
    rows = table.split("<tr>")[2:]
    logged = LogEntry.objects.filter(index__isnull=False).count()
    assert len(rows) == min(logged, 25) and logged >= 10
    assert "Unknown fact" not in table and fact_kinds.UNLABELLED_FACT not in table
    labels = {re.search(r"<td>([^<]+)<br><code", row).group(1) for row in rows}  # type: ignore[union-attr]
    assert {
        "Release published",
        "Artifact",
        "Document (sbom)",
        "Release manifest",
        "Key event",
        VSA,
        "Control catalogue published",
        "Audit trail batch sealed",
    } <= labels
    key_event = next(r for r in rows if "Key event" in r)
    assert 'href="/orgs/' in key_event and "#signing-keys-heading" in key_event
    catalogue = next(r for r in rows if "Control catalogue published" in r)
    assert "/-/catalogues/" in catalogue
    vsa = next(r for r in rows if VSA in r)
    assert "TestLab Europe" in vsa and f"{VENDOR}/{PRODUCT}@{VERSION}" in vsa


def test_release_page_names_lab_as_signer_of_its_vsa(demo: Release) -> None:
    text = _text(Client(), reverse("portal:release", args=[VENDOR, PRODUCT, VERSION]))
    section = _section(text, "signatures-heading")
    assert "signed with its own keys" not in section
    rows = [r[: r.index("</tr>")] for r in section.split("<tr>")[2:]]
    vsa = next(r for r in rows if VSA in r)
    manifest = next(r for r in rows if "Release manifest" in r)
    assert "TestLab Europe" in vsa and "Acme Networks" not in vsa
    assert "Acme Networks" in manifest and "TestLab Europe" not in manifest
    assert 'href="/orgs/testlab-europe/"' in vsa


def test_log_list_names_manifest_and_report_kinds(demo: Release) -> None:
    text = _text(Client(), reverse("portal:release", args=[VENDOR, PRODUCT, VERSION]))
    section = _section(text, "log-heading")
    assert "Publication" not in section
    items = [re.sub(r"\s+", " ", i) for i in section.split("<li>")[1:]]
    kinds = {json.loads(bytes(e.entry))["fact"] for e in demo.log_entries.filter(artifact=None)}
    assert kinds >= {facts.RELEASE, facts.ATTESTATION}
    assert any(i.startswith("Release published:") for i in items)
    assert any(i.startswith("Release manifest, by <a") and "Acme Networks" in i for i in items)
    report = [i for i in items if i.startswith(f"{VSA}, by")]
    assert len(report) == 1 and "TestLab Europe" in report[0]
    assert demo.attestations.filter(predicate_type=SLSA_VSA).exists()
