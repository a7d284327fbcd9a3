"""Signatures on the portal: a release's signed statements (signer keys, log entries, pending
before publication), the "verify it yourself" commands for a signed and logged release, and an
organisation's signing keys."""

from __future__ import annotations

import hashlib
import html
import re
import shlex
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from clearroom.attest.bundle import MEDIA_TYPE, Bundle
from clearroom.attest.dsse import sign_envelope
from clearroom.attest.keys import FileSigner
from clearroom.attest.predicates import RELEASE_MANIFEST, ManifestFile, ReleaseManifest
from clearroom.attest.registry import KeyEvent
from clearroom.attest.statement import PAYLOAD_TYPE
from clearroom.cli import verify as verify_command
from clearroom.server.attestations import services as attestations
from clearroom.server.authz import Actor
from clearroom.server.catalog import services
from clearroom.server.catalog.models import Release
from tests.portal.a11y import problems
from tests.portal.conftest import DRAFT_FIRMWARE, World, release_url

ORGANISATION = "/orgs/acme/"


def _envelope(statement, *signers) -> bytes:
    return sign_envelope(PAYLOAD_TYPE, statement.to_json(), list(signers)).to_json()


def _key_event(key, action="add", reason=""):
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    return KeyEvent("acme", action, key.public_key, moment, reason=reason).to_statement()


def _manifest(release: Release, *files: tuple[str, bytes]):
    listed = tuple(
        ManifestFile(name, "artifact", hashlib.sha256(data).hexdigest(), len(data))
        for name, data in files
    )
    p = release.product
    return ReleaseManifest(p.vendor.slug, p.slug, release.version, listed).to_statement()


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def section(text: str, heading_id: str) -> str:
    """The <section> labelled by ``heading_id``."""
    match = re.search(
        rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', text, flags=re.DOTALL
    )
    assert match is not None, heading_id
    return match.group(0)


@pytest.fixture
def vendor_key(world: World, own_log: object) -> FileSigner:
    """A key of the vendor, vouched for by the centre at its owner's request."""
    key = FileSigner.generate()
    attestations.register_key(Actor(world.owner), world.vendor, _envelope(_key_event(key), key))
    return key


@pytest.fixture
def signed_draft(world: World, vendor_key: FileSigner) -> Release:
    """The draft with its manifest signed and uploaded, not yet published."""
    manifest = _manifest(world.draft, ("edge-router-2.5.0-rc1.bin", DRAFT_FIRMWARE))
    attestations.add_attestation(
        Actor(world.maintainer), world.draft, _envelope(manifest, vendor_key)
    )
    return world.draft


@pytest.fixture
def signed_release(world: World, signed_draft: Release, log_writer) -> Release:
    """The signed draft, published, with every fact logged under a published checkpoint."""
    services.publish_release(Actor(world.maintainer), signed_draft)
    log_writer()
    signed_draft.refresh_from_db()
    return signed_draft


def test_a_signed_published_release_shows_its_signatures_and_log_entries(
    world: World, vendor_key: FileSigner, signed_release: Release, django_assert_max_num_queries
) -> None:
    client = Client()
    with django_assert_max_num_queries(25):
        text = page(client, release_url(signed_release))
    signatures = section(text, "signatures-heading")
    keyid = vendor_key.public_key.keyid
    assert "Release manifest" in signatures
    assert f'href="{ORGANISATION}#key-{keyid}"' in signatures
    assert f'title="{keyid}">{keyid[:16]}…</code>' in signatures
    assert "valid</span>" in signatures and "pending" not in signatures
    assert "No signed release manifest" not in text
    manifest = signed_release.attestations.select_related("log_entry").get(
        predicate_type=RELEASE_MANIFEST
    )
    entry = manifest.log_entry
    assert entry is not None and entry.index is not None
    entry_url = reverse("api:log-entry", kwargs={"leaf_hash": entry.leaf_hash})
    receipt_url = reverse("api:log-receipt", kwargs={"leaf_hash": entry.leaf_hash})
    assert f'href="{entry_url}"' in signatures and f"#{entry.index}<" in signatures
    assert f'href="{receipt_url}"' in signatures
    assert client.get(receipt_url).status_code == 200
    assert client.get(entry_url).json()["index"] == entry.index


def test_the_verify_panel_links_a_bundle_and_gives_commands_with_absolute_urls(
    world: World, signed_release: Release, tmp_path, monkeypatch
) -> None:
    client = Client()
    text = page(client, release_url(signed_release))
    panel = section(text, "verify-signed-heading")
    p = signed_release.product
    bundle_path = reverse(
        "api:bundle", kwargs={"org": "acme", "product": p.slug, "version": signed_release.version}
    )
    policy_path = reverse("api:policy", kwargs={"org": "acme"})
    assert f'href="{bundle_path}"' in panel and "Download the bundle" in panel
    assert f'href="{policy_path}"' in panel and "out of band" in panel

    response = client.get(bundle_path)
    assert response.status_code == 200 and response["Content-Type"] == MEDIA_TYPE
    bundle = Bundle.parse(response.content)
    assert bundle.release["version"] == signed_release.version
    assert client.get(policy_path).status_code == 200

    base = settings.CONFIG.base_url.rstrip("/")
    assert base.startswith("http")
    commands = html.unescape(panel)
    name = shlex.quote("edge-router-2.5.0-rc1.bin")
    assert f"curl -o release.bundle.json {base}{bundle_path}" in commands
    assert f"curl -o policy.toml {base}{policy_path}" in commands
    assert f"clearroom verify {name} --bundle release.bundle.json --policy policy.toml" in commands
    assert f"clearroom verify {name} --policy policy.toml --online {base}</code>" in commands
    assert "Exit code 0 means verified" in panel

    # The commands work: the downloaded bundle and policy verify the release's file offline.
    (tmp_path / "release.bundle.json").write_bytes(response.content)
    (tmp_path / "policy.toml").write_bytes(client.get(policy_path).content)
    (tmp_path / "edge-router-2.5.0-rc1.bin").write_bytes(DRAFT_FIRMWARE)
    monkeypatch.chdir(tmp_path)
    argv = [
        "edge-router-2.5.0-rc1.bin",
        "--bundle",
        "release.bundle.json",
        "--policy",
        "policy.toml",
        "--no-state",
        "--json",
    ]
    assert verify_command.main(argv) == 0
    (tmp_path / "edge-router-2.5.0-rc1.bin").write_bytes(b"tampered")
    assert verify_command.main(argv) != 0


def test_the_commands_use_the_public_base_url_not_the_request_host(
    world: World, signed_release: Release
) -> None:
    text = page(Client(HTTP_HOST="testserver"), release_url(signed_release))
    assert "http://testserver" not in text
    assert settings.CONFIG.base_url.rstrip("/") + "/api/" in html.unescape(text)


def test_a_draft_with_an_unlogged_manifest_shows_pending(
    world: World, signed_draft: Release
) -> None:
    text = page(world.client("maintainer"), release_url(signed_draft))
    signatures = section(text, "signatures-heading")
    assert "Release manifest" in signatures
    assert "pending</span> — logged when the release is published" in signatures
    assert "/api/log/entries/" not in signatures
    assert "verify-signed-heading" not in text  # nothing to verify before publication
    assert "No signed release manifest" not in text
    assert problems(text) == []


def test_a_sequenced_manifest_not_yet_checkpointed_has_no_receipt_and_no_panel(
    world: World, signed_draft: Release
) -> None:
    services.publish_release(Actor(world.maintainer), signed_draft)
    manifest = signed_draft.attestations.select_related("log_entry").get(
        predicate_type=RELEASE_MANIFEST
    )
    assert manifest.log_entry is not None
    text = page(Client(), release_url(signed_draft))
    assert "waiting for its index" in section(text, "signatures-heading")
    assert "verify-signed-heading" not in text


@pytest.mark.parametrize("who", ["anonymous", "maintainer"])
def test_an_unsigned_release_says_how_to_sign(world: World, who: str) -> None:
    text = page(world.client(who), release_url(world.published))
    signatures = section(text, "signatures-heading")
    assert "No signed release manifest" in signatures
    assert "clearroom publish --sign-with KEY" in signatures
    assert "<table" not in signatures
    assert "verify-signed-heading" not in text


def test_the_organisation_page_lists_keys_with_anchors_and_json(
    world: World, vendor_key: FileSigner, log_writer, django_assert_max_num_queries
) -> None:
    log_writer()
    rotated = FileSigner.generate()
    attestations.register_key(
        Actor(world.maintainer), world.vendor, _envelope(_key_event(rotated), rotated, vendor_key)
    )
    with django_assert_max_num_queries(15):
        text = page(Client(), ORGANISATION)
    keys = section(text, "signing-keys-heading")
    first, second = vendor_key.public_key.keyid, rotated.public_key.keyid
    assert f'<tr id="key-{first}">' in keys and f'<tr id="key-{second}">' in keys
    rows = dict(re.findall(r'<tr id="key-([0-9a-f]+)">(.*?)</tr>', keys, flags=re.DOTALL))
    assert "the centre" in rows[first]
    assert f'href="#key-{first}"' in rows[second]  # introduced by the first key
    assert "Valid</span>" in rows[first] and vendor_key.public_key.algorithm in rows[first]
    assert re.search(r">#\d+</a>", rows[first]) and "Receipt" in rows[first]
    assert "pending" in rows[second]  # its key event is committed, not yet sequenced
    assert f'href="{reverse("api:keys", kwargs={"org": "acme"})}"' in keys


def test_a_revoked_key_shows_as_revoked_with_its_reason(
    world: World, vendor_key: FileSigner, signed_release: Release
) -> None:
    keyid = vendor_key.public_key.keyid
    attestations.revoke_key(
        Actor(world.owner), world.vendor, keyid, reason="laptop stolen", data=None
    )
    text = page(Client(), ORGANISATION)
    row = re.search(rf'<tr id="key-{keyid}">(.*?)</tr>', text, flags=re.DOTALL)
    assert row is not None
    assert "Revoked</span>: laptop stolen" in row.group(1)
    assert "revoked: <span" in row.group(1)  # the revocation's entry, pending
    # The release signed before the revocation shows its signer's status today.
    signatures = section(page(Client(), release_url(signed_release)), "signatures-heading")
    assert "revoked</span>" in signatures


def test_an_organisation_without_keys_says_so(world: World) -> None:
    keys = section(page(Client(), ORGANISATION), "signing-keys-heading")
    assert "has registered no signing key" in keys and "clearroom key register" in keys


def test_signature_pages_have_the_accessibility_basics(
    world: World, vendor_key: FileSigner, signed_release: Release
) -> None:
    client = Client()
    for url in (
        release_url(signed_release),
        release_url(world.published),
        ORGANISATION,
        reverse("portal:help"),
    ):
        assert problems(page(client, url)) == [], url
