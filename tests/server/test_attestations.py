"""Vendors register keys and sign on their side; the centre accepts only what a verifier would
accept, logs it, and serves release bundles that `clearroom.attest.verify` passes."""

from __future__ import annotations

import base64
import hashlib
import json
import tomllib
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from tests.server.conftest import RELEASE, _member, put

from clearroom.attest.bundle import Bundle
from clearroom.attest.dsse import sign_envelope
from clearroom.attest.keys import FileSigner
from clearroom.attest.policy import Policy
from clearroom.attest.predicates import (
    RELEASE_STATUS,
    SLSA_VSA,
    ManifestFile,
    ReleaseManifest,
    make_vsa,
)
from clearroom.attest.registry import KeyEvent
from clearroom.attest.statement import PAYLOAD_TYPE, Subject
from clearroom.attest.verify import Failure, verify
from clearroom.server.accounts.models import Membership
from clearroom.server.attestations.models import Attestation
from clearroom.server.attestations.services import add_evaluation_report
from clearroom.server.attestations.status import refresh_statuses
from clearroom.server.authz import Actor
from clearroom.server.catalog.models import Release
from clearroom.server.transparency.keeper import LogKeeper
from clearroom.server.transparency.models import LogEntry

FIRMWARE = b"firmware 1.0.0"
SOURCE = b"confidential sources"
KEYS = "/api/organisations/acme/keys"


def _envelope(statement, *signers):
    return sign_envelope(PAYLOAD_TYPE, statement.to_json(), list(signers)).to_json()


def _key_event(key, action="add", organisation="acme", reason=""):
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    return KeyEvent(organisation, action, key.public_key, moment, reason=reason).to_statement()


def _manifest(*files, version="1.0.0"):
    listed = tuple(
        ManifestFile(name, "artifact", hashlib.sha256(data).hexdigest(), len(data))
        for name, data in files
    )
    return ReleaseManifest("acme", "router", version, listed).to_statement()


def _post(client, url, data):
    return client.post(url, data=data, content_type="application/json")


@pytest.fixture
def owner(world):
    user = _member("owner", world.vendor, Membership.Role.OWNER)
    return world.client(world.token_for(user, world.vendor))


@pytest.fixture
def vendor_key(world, owner, own_log):
    key = FileSigner.generate()
    response = _post(owner, KEYS, _envelope(_key_event(key), key))
    assert response.status_code == 201, response.content
    return key


def test_the_first_key_is_vouched_for_by_the_centre_for_an_owner_only(world, owner, own_log):
    key = FileSigner.generate()
    maintainer = world.client(world.token)
    refused = _post(maintainer, KEYS, _envelope(_key_event(key), key))
    assert refused.status_code == 403 and "org:key:manage" in refused.json()["detail"]
    created = _post(owner, KEYS, _envelope(_key_event(key), key))
    assert created.status_code == 201
    body = created.json()
    assert body["keyid"] == key.public_key.keyid and body["authorised_by"] != key.public_key.keyid
    assert body["log"]["fact"] == "clearroom.dev/attestation/v1"  # every key event is logged
    not_possessed = _post(owner, KEYS, _envelope(_key_event(FileSigner.generate()), key))
    assert (
        not_possessed.status_code == 422
        and "did not sign its own" in not_possessed.json()["detail"]
    )


def test_a_rotation_is_signed_by_the_old_key(world, vendor_key):
    new = FileSigner.generate()
    maintainer = world.client(world.token)
    rotated = _post(maintainer, KEYS, _envelope(_key_event(new), new, vendor_key))
    assert rotated.status_code == 201, rotated.content
    assert rotated.json()["authorised_by"] == vendor_key.public_key.keyid
    keys = world.client().get(KEYS).json()
    assert {k["keyid"] for k in keys} == {vendor_key.public_key.keyid, new.public_key.keyid}


@pytest.mark.parametrize(
    ("statement", "says"),
    [
        (lambda key: _key_event(key, organisation="other"), "is for 'other'"),
        (lambda key: _key_event(key, action="revoke"), "takes an 'add' key event"),
    ],
)
def test_bad_key_events_are_refused(owner, vendor_key, statement, says):
    key = FileSigner.generate()
    response = _post(owner, KEYS, _envelope(statement(key), key))
    assert response.status_code == 422 and says in response.json()["detail"]
    assert _post(owner, KEYS, b"{not json").status_code == 422


def _upload(world, client):
    assert put(client, "fw.bin", FIRMWARE).status_code == 201
    assert put(client, "src.tar", SOURCE, query="?confidentiality=confidential").status_code == 201


def test_statements_must_be_signed_by_a_registered_key_and_be_about_the_release(world, vendor_key):
    client = world.client(world.token)
    _upload(world, client)
    url = f"{RELEASE}/attestations"
    stranger = _post(client, url, _envelope(_manifest(("fw.bin", FIRMWARE)), FileSigner.generate()))
    assert stranger.status_code == 422 and "registered, unrevoked key" in stranger.json()["detail"]
    other = _post(client, url, _envelope(_manifest(("fw.bin", FIRMWARE), version="9"), vendor_key))
    assert other.status_code == 422 and "not acme/router@1.0.0" in other.json()["detail"]
    good = _post(client, url, _envelope(_manifest(("fw.bin", FIRMWARE)), vendor_key))
    assert good.status_code == 201 and good.json()["log"] is None  # logged when published
    again = _post(client, url, _envelope(_manifest(("fw.bin", FIRMWARE)), vendor_key))
    assert again.status_code == 409  # Ed25519 is deterministic: the very same statement


def test_a_manifest_that_does_not_match_the_files_blocks_publication(world, vendor_key):
    client = world.client(world.token)
    _upload(world, client)
    url = f"{RELEASE}/attestations"
    wrong = _manifest(("fw.bin", b"other bytes"))
    assert _post(client, url, _envelope(wrong, vendor_key)).status_code == 201
    response = client.post(f"{RELEASE}/publish")
    assert response.status_code == 409 and "not in the release" in response.json()["detail"]
    assert client.get(RELEASE).json()["state"] == "draft"
    leaky = _manifest(("fw.bin", FIRMWARE), ("src.tar", SOURCE))
    assert _post(client, url, _envelope(leaky, vendor_key)).status_code == 201
    response = client.post(f"{RELEASE}/publish")
    assert response.status_code == 409 and "confidential" in response.json()["detail"]


def test_the_bundle_of_a_signed_release_verifies_offline(world, vendor_key, log_writer):
    client = world.client(world.token)
    _upload(world, client)
    manifest = _envelope(_manifest(("fw.bin", FIRMWARE)), vendor_key)
    assert _post(client, f"{RELEASE}/attestations", manifest).status_code == 201
    assert client.post(f"{RELEASE}/publish").status_code == 200
    log_writer()
    # the vendor's key, its manifest and the centre's release status
    assert Attestation.objects.filter(log_entry__index__isnull=False).count() == 3

    anonymous = world.client()
    policy_text = anonymous.get("/api/organisations/acme/policy").content.decode()

    policy = Policy.from_dict(tomllib.loads(policy_text))
    digest = hashlib.sha256(FIRMWARE).hexdigest()
    response = anonymous.get(f"/api/bundles?sha256={digest}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.clearroom.bundle.v1+json"
    bundle = Bundle.parse(response.content)
    assert bundle.release == {"vendor": "acme", "product": "router", "version": "1.0.0"}
    verdict = verify(digest, bundle, policy)
    assert verdict.ok, verdict.checks
    assert verdict.artifact_name == "fw.bin"
    # The same bundle at its release's URL; the confidential archive has no public bundle.
    assert anonymous.get(f"{RELEASE}/bundle").content == response.content
    secret = hashlib.sha256(SOURCE).hexdigest()
    assert anonymous.get(f"/api/bundles?sha256={secret}").status_code == 404
    assert json.loads(anonymous.get("/api/trust").content)["centre_keys"]


def test_a_revoked_key_signs_nothing_more_but_what_it_signed_before_stays_valid(
    world, owner, vendor_key, log_writer
):
    client = world.client(world.token)
    _upload(world, client)
    manifest = _envelope(_manifest(("fw.bin", FIRMWARE)), vendor_key)
    assert _post(client, f"{RELEASE}/attestations", manifest).status_code == 201
    assert client.post(f"{RELEASE}/publish").status_code == 200
    revoke = owner.post(
        f"{KEYS}/{vendor_key.public_key.keyid}/revoke",
        {"reason": "laptop stolen"},
        content_type="application/json",
    )
    assert revoke.status_code == 200 and revoke.json()["revoked"] is True
    # the key, the manifest, the centre's release status, the revocation
    assert LogEntry.objects.filter(fact="clearroom.dev/attestation/v1").count() == 4
    client.post("/api/products/acme/router/releases", {"version": "2.0.0"}, "application/json")
    late = _envelope(_manifest(("fw.bin", FIRMWARE), version="2.0.0"), vendor_key)
    refused = _post(client, "/api/products/acme/router/releases/2.0.0/attestations", late)
    assert refused.status_code == 422
    log_writer()

    policy = Policy.from_dict(
        tomllib.loads(client.get("/api/organisations/acme/policy").content.decode())
    )
    digest = hashlib.sha256(FIRMWARE).hexdigest()
    bundle = Bundle.parse(world.client().get(f"{RELEASE}/bundle").content)
    assert len(bundle.key_events) == 2
    assert verify(digest, bundle, policy).ok  # signed and logged before the revocation


def test_a_draft_has_no_bundle_and_an_unsigned_release_says_how_to_sign(world, log_writer):
    client = world.client(world.token)
    assert client.get(f"{RELEASE}/bundle").status_code == 404
    _upload(world, client)
    client.post(f"{RELEASE}/publish")
    log_writer()
    response = client.get(f"{RELEASE}/bundle")
    assert response.status_code == 404 and "clearroom sign" in response.json()["detail"]
    assert client.get("/api/bundles?sha256=xyz").status_code == 422


def test_a_withdrawn_release_fails_verification_unless_the_policy_allows_it(
    world, vendor_key, log_writer
):
    client = world.client(world.token)
    _upload(world, client)
    manifest = _envelope(_manifest(("fw.bin", FIRMWARE)), vendor_key)
    assert _post(client, f"{RELEASE}/attestations", manifest).status_code == 201
    assert client.post(f"{RELEASE}/publish").status_code == 200
    reason = {"reason": "CVE-2026-0001: update to 1.0.1"}
    assert client.post(f"{RELEASE}/withdraw", reason, "application/json").status_code == 200
    log_writer()
    doc = tomllib.loads(client.get("/api/organisations/acme/policy").content.decode())
    bundle = Bundle.parse(world.client().get(f"{RELEASE}/bundle").content)
    assert len(bundle.release_facts) == 2
    digest = hashlib.sha256(FIRMWARE).hexdigest()
    verdict = verify(digest, bundle, Policy.from_dict(doc))
    assert not verdict.ok and verdict.checks[-1].name == "release state"
    assert (
        "withdrew this release" in verdict.checks[-1].detail
        and "CVE-2026-0001" in verdict.checks[-1].detail
    )
    allowed = Policy.from_dict({**doc, "release": {"allow_withdrawn": True}})
    assert verify(digest, bundle, allowed).ok


def _published(world, vendor_key, log_writer):
    client = world.client(world.token)
    _upload(world, client)
    manifest = _envelope(_manifest(("fw.bin", FIRMWARE)), vendor_key)
    assert _post(client, f"{RELEASE}/attestations", manifest).status_code == 201
    assert client.post(f"{RELEASE}/publish").status_code == 200
    log_writer()
    doc = tomllib.loads(client.get("/api/organisations/acme/policy").content.decode())
    return client, doc


def test_a_withdrawal_dropped_from_the_bundle_still_fails_on_the_centres_status(
    world, vendor_key, log_writer
):
    client, doc = _published(world, vendor_key, log_writer)
    reason = {"reason": "CVE-2026-0001: update to 1.0.1"}
    assert client.post(f"{RELEASE}/withdraw", reason, "application/json").status_code == 200
    log_writer()
    raw = json.loads(world.client().get(f"{RELEASE}/bundle").content)
    raw["releaseFacts"] = []  # the withdrawal fact left out by whoever hands the bundle over
    digest = hashlib.sha256(FIRMWARE).hexdigest()
    verdict = verify(digest, Bundle.parse(json.dumps(raw).encode()), Policy.from_dict(doc))
    assert verdict.failure == Failure.POLICY and verdict.checks[-1].name == "release status"
    assert "withdrew this release" in verdict.checks[-1].detail
    # Leaving out the centre's status as well: no status, its own failure.
    raw["attestations"] = [
        item
        for item in raw["attestations"]
        if RELEASE_STATUS not in base64.b64decode(item["envelope"]["payload"]).decode()
    ]
    verdict = verify(digest, Bundle.parse(json.dumps(raw).encode()), Policy.from_dict(doc))
    assert verdict.failure == Failure.STATUS and "no release status" in verdict.checks[-1].detail


def test_the_log_writer_re_signs_release_statuses_when_due(world, vendor_key, log_writer):
    _, doc = _published(world, vendor_key, log_writer)
    statuses = Attestation.objects.filter(predicate_type=RELEASE_STATUS)
    assert statuses.count() == 1  # signed with the publication
    assert refresh_statuses() == 0  # not due yet
    later = timezone.now() + timedelta(days=2)
    assert refresh_statuses(later) == 1 and statuses.count() == 2
    assert refresh_statuses(later) == 0
    log_writer()
    bundle = Bundle.parse(world.client().get(f"{RELEASE}/bundle").content)
    carried = [i for i in bundle.attestations if b"release-status" in i.envelope.payload]
    assert (
        len(carried) == 1
        and later.strftime("%Y-%m-%dT%H:%M") in carried[0].envelope.payload.decode()
    )
    digest = hashlib.sha256(FIRMWARE).hexdigest()
    assert verify(digest, bundle, Policy.from_dict(doc), now=later).ok
    stale = verify(digest, bundle, Policy.from_dict(doc), now=later + timedelta(days=8))
    assert stale.failure == Failure.STATUS and "max_status_age" in stale.checks[-1].detail


def test_a_bundle_carries_the_key_history_of_the_lab_that_signed_a_report(
    world, vendor_key, log_writer
):
    _, doc = _published(world, vendor_key, log_writer)
    lab_owner = world.client(world.token_for(_member("lab-owner", world.lab, "owner"), world.lab))
    lab = FileSigner.generate()
    keys = "/api/organisations/lab/keys"
    event = _key_event(lab, organisation="lab")
    assert _post(lab_owner, keys, _envelope(event, lab)).status_code == 201
    release = Release.objects.get(version="1.0.0")
    digest = hashlib.sha256(FIRMWARE).hexdigest()
    report = make_vsa(
        subjects=[Subject("fw.bin", {"sha256": digest})],
        verifier_id="https://lab.test/",
        time_verified=datetime(2026, 1, 2, tzinfo=UTC),
        resource_uri="https://centre.test/acme/router/1.0.0",
        policy_uri="https://lab.test/policy",
        policy_digest=None,
        input_attestations=[],
        result="PASSED",
        verified_levels=["SLSA_BUILD_LEVEL_3"],
    )
    signed = sign_envelope(PAYLOAD_TYPE, report.to_json(), [lab])
    add_evaluation_report(Actor(world.evaluator), world.lab, release, signed.to_json())
    revoke = lab_owner.post(
        f"{keys}/{lab.public_key.keyid}/revoke",
        {"reason": "lab key leaked"},
        content_type="application/json",
    )
    assert revoke.status_code == 200, revoke.content
    log_writer()
    bundle = Bundle.parse(world.client().get(f"{RELEASE}/bundle").content)
    assert len(bundle.key_events) == 3  # the vendor's key; the lab's key and its revocation
    policy = Policy.from_dict(
        {**doc, "require": [{"predicate_type": SLSA_VSA, "organisation": "lab"}]}
    )
    verdict = verify(digest, bundle, policy)
    assert verdict.ok, verdict.checks  # the report was logged before the revocation
    assert "of lab" in verdict.checks[-1].detail

    # The next status counts the lab's key events: leaving its revocation out is caught.
    later = timezone.now() + timedelta(days=2)
    assert refresh_statuses(later) == 1
    log_writer()
    raw = json.loads(world.client().get(f"{RELEASE}/bundle").content)
    assert verify(digest, Bundle.parse(json.dumps(raw).encode()), policy, now=later).ok
    raw["keyEvents"] = raw["keyEvents"][:-1]  # the lab's revocation, the newest
    verdict = verify(digest, Bundle.parse(json.dumps(raw).encode()), policy, now=later)
    assert verdict.failure == Failure.STATUS
    assert "carries 1 of the 2 key events of lab" in verdict.checks[-1].detail


def test_the_log_writer_re_signs_a_status_that_fell_due(world, vendor_key, log_writer):
    _published(world, vendor_key, log_writer)
    statuses = Attestation.objects.filter(predicate_type=RELEASE_STATUS)
    statuses.update(created_at=timezone.now() - timedelta(days=2))  # a day and more ago
    keeper = LogKeeper()
    keeper.refresh_release_status_when_due()
    assert statuses.count() == 2
    keeper.refresh_release_status_when_due()  # checked again only a minute later
    assert statuses.count() == 2
