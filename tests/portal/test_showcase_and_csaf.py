"""The public showcase of a vendor, the CSAF 2.0 provider (checked with GnuPG as a consumer
would) and security.txt (RFC 9116)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.test import Client

from clearroom.server.catalog.models import Document
from clearroom.server.csaf.provider import filename
from clearroom.server.services import blob_store
from clearroom.vulns.vex import load_vex
from tests import processes
from tests.portal.conftest import World

VEX = (Path(__file__).parents[1] / "data" / "vex" / "openvex-all-statuses.json").read_bytes()
FOLDER = "/.well-known/csaf/white/"


def _vex(release, name="vex.openvex.json", confidentiality="public"):
    blob = blob_store().put_bytes(VEX)
    return Document.objects.create(
        release=release,
        name=name,
        kind="vex",
        size=blob.size,
        sha256=blob.sha256,
        confidentiality=confidentiality,
    )


@pytest.fixture
def advisory(world: World) -> str:
    _vex(world.published)
    _vex(world.draft)  # a draft's VEX is not published
    _vex(world.published, "internal.openvex.json", "confidential")
    index = Client().get(FOLDER + "index.txt").content.decode().split()
    year = world.published.published_at.year
    assert index == [f"{year}/clearroom-acme-edge-router-2_4_1-vex.json"]  # CSAF 2.0 section 5.1
    return index[0]


def test_the_csaf_document_is_a_vex_of_the_vendors_statements(advisory):
    document = json.loads(Client().get(FOLDER + advisory).content)
    meta = document["document"]
    assert meta["category"] == "csaf_vex" and meta["csaf_version"] == "2.0"
    assert meta["distribution"]["tlp"]["label"] == "WHITE"
    assert meta["tracking"]["id"] == "clearroom-acme-edge-router-2.4.1-vex"
    assert advisory.endswith(filename(meta["tracking"]["id"]))
    original = {(s.vulnerability, s.status) for s in load_vex(VEX).statements}
    again = {
        (s.vulnerability, s.status) for s in load_vex(json.dumps(document).encode()).statements
    }
    assert again == original


def test_hashes_changes_and_a_signature_gpg_verifies(advisory, tmp_path):
    client = Client()
    body = client.get(FOLDER + advisory).content
    digest = client.get(FOLDER + advisory + ".sha256").content.decode().split()
    assert digest == [hashlib.sha256(body).hexdigest(), advisory.rsplit("/", 1)[-1]]
    sha512 = client.get(FOLDER + advisory + ".sha512").content.decode().split()[0]
    assert sha512 == hashlib.sha512(body).hexdigest()
    changes = client.get(FOLDER + "changes.csv").content.decode().strip()
    assert re.fullmatch(rf'"{re.escape(advisory)}","\d{{4}}-\d\d-\d\dT[^"]+"', changes)

    metadata = client.get("/.well-known/csaf/provider-metadata.json").json()
    assert metadata["metadata_version"] == "2.0" and metadata["role"] == "csaf_trusted_provider"
    assert metadata["distributions"][0]["directory_url"].endswith(FOLDER)
    (key,) = metadata["public_openpgp_keys"]
    assert re.fullmatch(r"[0-9A-F]{40}", key["fingerprint"])
    public = client.get(key["url"].split("8000", 1)[-1]).content
    home = tmp_path / "consumer"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--batch", "--homedir", str(home)]
    try:
        subprocess.run([*gpg, "--import"], input=public, check=True, capture_output=True)
        (tmp_path / "doc.json").write_bytes(body)
        (tmp_path / "doc.json.asc").write_bytes(client.get(FOLDER + advisory + ".asc").content)
        checked = subprocess.run(
            [*gpg, "--verify", str(tmp_path / "doc.json.asc"), str(tmp_path / "doc.json")],
            capture_output=True,
        )
        assert checked.returncode == 0, checked.stderr
        (tmp_path / "doc.json").write_bytes(body.replace(b"WHITE", b"GREEN"))
        tampered = subprocess.run(
            [*gpg, "--verify", str(tmp_path / "doc.json.asc"), str(tmp_path / "doc.json")],
            capture_output=True,
        )
        assert tampered.returncode != 0
    finally:  # the consumer's gpg started an agent of its own
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False)


def test_signing_advisories_leaves_no_gpg_agent_running(advisory, settings):
    """gpg starts a gpg-agent daemon for the provider's key home that would outlive the
    server; each signing stops it again."""
    client = Client()
    assert client.get(FOLDER + advisory + ".asc").status_code == 200
    key = client.get("/.well-known/csaf/provider-metadata.json").json()["public_openpgp_keys"]
    assert client.get(key[0]["url"].split("8000", 1)[-1]).status_code == 200
    assert processes.gpg_agents(settings.CONFIG.data_dir / "csaf-gnupg") == []


NO_SCORE = frozenset({"optionalTest_6_2_3"})
"""CSAF 6.2.3 wants a CVSS score per affected product; the vendor's VEX gives none and this
world has no scan to take one from (tests/server/test_vulnerabilities.py has one, no allowance)."""


@pytest.fixture
def https(settings):
    """The centre behind HTTPS, as deployed (CSAF 6.2.11 wants an https canonical URL)."""
    settings.CONFIG = dataclasses.replace(settings.CONFIG, base_url="https://centre.example")


def test_csaf_vex_passes_oasis_validator_mandatory_and_optional(advisory, https, oasis_csaf):
    body = Client().get(FOLDER + advisory).content
    assert oasis_csaf.problems(body, allow=NO_SCORE) == []
    meta = json.loads(body)["document"]
    (self_ref,) = meta["references"]
    assert self_ref == {
        "category": "self",
        "summary": "Canonical URL",
        "url": f"https://centre.example{FOLDER}{advisory}",
    }
    for vulnerability in json.loads(body)["vulnerabilities"]:
        assert vulnerability["notes"][0]["category"] == "summary"


def _links(client: Client, url: str) -> list[str]:
    page = client.get(url)
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html"), url
    return [h for h in re.findall(r'href="([^"]+)"', page.content.decode()) if h != "../"]


def test_csaf_white_directory_listing_walks_to_every_document(advisory):
    client = Client()
    metadata = client.get("/.well-known/csaf/provider-metadata.json").json()
    top = metadata["distributions"][0]["directory_url"].split("8000", 1)[-1]
    found, folders = [], [top]
    while folders:  # as a downloader would: follow every link from the top
        folder = folders.pop()
        for link in _links(client, folder):
            (folders if link.endswith("/") else found).append(folder + link)
    leaf = FOLDER + advisory
    expected = [leaf + s for s in ("", ".asc", ".sha256", ".sha512")]
    assert sorted(found) == sorted([FOLDER + "changes.csv", FOLDER + "index.txt", *expected])
    assert all(client.get(url).status_code == 200 for url in found)
    year = FOLDER + advisory.split("/")[0]
    assert client.get(year)["Location"] == year + "/"  # the folder without its slash
    assert client.get(FOLDER + "1999/").status_code == 404


def test_other_paths_and_labels_are_not_found(advisory):
    client = Client()
    assert client.get("/.well-known/csaf/amber/index.txt").status_code == 404
    assert client.get(FOLDER + "2020/nothing.json").status_code == 404
    assert client.get(FOLDER + advisory + ".exe").status_code == 404
    assert client.get("/.well-known/csaf/openpgp/" + "A" * 40 + ".asc").status_code == 404


def test_security_txt_follows_rfc_9116(db):
    text = Client().get("/.well-known/security.txt").content.decode()
    fields = dict(line.split(": ", 1) for line in text.strip().splitlines())
    assert fields["Contact"].startswith(("mailto:", "https://"))
    expires = datetime.fromisoformat(fields["Expires"].replace("Z", "+00:00"))
    assert timedelta(0) < expires - datetime.now(UTC) < timedelta(days=366)
    assert fields["Canonical"].endswith("/.well-known/security.txt")
    assert fields["CSAF"].endswith("/.well-known/csaf/provider-metadata.json")


def test_the_showcase_draws_the_vendors_posture(world: World):
    _vex(world.published)
    page = Client().get("/orgs/acme/-/showcase/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Edge Router 2.4.1" in html and "2030-12-31" in html
    assert "2.5.0-rc1" not in html  # a draft is not public
    assert "Binary equivalence" in html and "not assessed" in html
    numbers = Client().get("/orgs/acme/-/showcase/?format=json").json()
    (release,) = numbers["releases"]
    assert release["version"] == "2.4.1" and release["supported"] is True
    assert release["support_until"] == "2030-12-31" and numbers["evaluations_passed"] == 0
    assert numbers["releases_reproduced"] == 0 and release["reproduced_by"] == []


def test_percent_bars_draw_and_tabulate_the_same_numbers():
    from clearroom.server.portal.charts import Bar, percent_bars

    chart = percent_bars(
        [Bar("Router 1.0", 87.4), Bar("<b>Cam</b> 2.0", 120)], ident="q", title="Quality"
    )
    assert 'role="img"' in chart.svg and "Router 1.0: 87%" in chart.svg
    assert "<b>" not in chart.svg and "&lt;b&gt;Cam" in chart.svg  # labels are escaped
    assert "<td>87%</td>" in chart.table and "<td>120%</td>" in chart.table
    assert percent_bars([], ident="q", title="none") is None


def test_demo_csaf_documents_pass_oasis_validator(db, own_log, https, oasis_csaf):
    from clearroom.server.demo import seed

    seed()
    client = Client()
    index = client.get(FOLDER + "index.txt").content.decode().split()
    assert index  # the demo's releases carry the vendor's OpenVEX
    for path in index:
        assert oasis_csaf.problems(client.get(FOLDER + path).content) == [], path
